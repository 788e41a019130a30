"""The RegNet design space as pure functions (no torch).

Symbols follow "Designing Network Design Spaces" (Radosavovic et al., 2020):

* ``u_j = w0 + wa * j`` for block ``j < d``: continuous per-block widths;
* ``s_j = round(log(u_j / w0) / log(wm))``: each block's step on the geometric
  width ladder ``w0 * wm**s``, quantised to a multiple of ``q = 8``;
* consecutive blocks of equal width form a stage ``i`` with width ``w_i`` and
  depth ``d_i``; the bottleneck width is ``w_i * b`` and groups have width
  ``g``;
* RegNetY adds squeeze-excitation whose width is ``se_ratio`` times the
  block *input* width.

``stage_specs`` turns design parameters (or an explicit AnyNet, one list
entry per stage) into per-stage specs, and ``complexity`` counts parameters,
multiply-adds and activations from those specs alone, the way pycls does, so
no module has to be built.

The paper's method on top of that: ``sample`` draws RegNets from the design
space as pycls's sweeps do, ``fit`` recovers ``(w0, wa, wm, d)`` from
per-block widths, and ``scale`` grows or shrinks a model along depth, width,
group width and resolution ("Fast and Accurate Model Scaling", Dollar et al.,
CVPR 2021).
"""
import dataclasses
import difflib
import math
import random
import warnings
from dataclasses import dataclass
from decimal import Decimal
from typing import (Callable, Dict, List, Mapping, NamedTuple, Optional,
                    Sequence, Tuple, Union)

WIDTH_QUANTUM = 8
ROUNDING_MODES = ('pycls', 'torchvision')
MAX_STAGES = 4


@dataclass(frozen=True)
class RegNetParams:
    """Design parameters of one RegNet.

    Attributes:
        w0: initial width ``w0 > 0``.
        wa: slope ``wa > 0`` of the linear widths ``u_j``.
        wm: width multiplier ``wm >= 1`` between stages.
        depth: number of blocks ``d >= 1``.
        group_w: group width ``g >= 1`` of the 3x3 convolution.
        bot_mul: bottleneck ratio ``b > 0``.
        se_ratio: squeeze-excitation ratio in ``[0, 1)``, 0 means no SE.
    """
    w0: int
    wa: float
    wm: float
    depth: int
    group_w: int
    bot_mul: float = 1.0
    se_ratio: float = 0.0

    def __post_init__(self):
        check_int('w0', self.w0, minimum=1)
        check_number('wa', self.wa)
        if not self.wa > 0:
            raise ValueError(f'wa must be > 0, got wa={self.wa!r}')
        check_number('wm', self.wm)
        if not self.wm >= 1:
            raise ValueError(f'wm must be >= 1, got wm={self.wm!r}')
        check_int('depth', self.depth, minimum=1)
        check_int('group_w', self.group_w, minimum=1)
        check_number('bot_mul', self.bot_mul)
        if not self.bot_mul > 0:
            raise ValueError(
                f'bot_mul must be > 0, got bot_mul={self.bot_mul!r}')
        check_se_ratio(self.se_ratio)


def check_int(name, value, minimum):
    """Raise TypeError unless ``value`` is an int, ValueError if below
    ``minimum``; both messages name the argument and its value."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f'{name} must be an int, got {name}={value!r} '
                        f'({type(value).__name__})')
    if value < minimum:
        raise ValueError(f'{name} must be >= {minimum}, got {name}={value!r}')


def check_se_ratio(se_ratio):
    """Raise unless ``se_ratio`` is a number in ``[0, 1)``."""
    check_number('se_ratio', se_ratio)
    if not 0 <= se_ratio < 1:
        raise ValueError(
            f'se_ratio must be in [0, 1), got se_ratio={se_ratio!r}')


def check_number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f'{name} must be a number, got {name}={value!r} '
                        f'({type(value).__name__})')
    if not math.isfinite(value):
        raise ValueError(f'{name} must be finite, got {name}={value!r}')


@dataclass(frozen=True)
class AnyNetParams:
    """An explicit network, one entry per stage (pycls's AnyNet of X / Y
    blocks).

    Stage ``i`` has ``depths[i]`` blocks of output width ``widths[i]``
    (``d_i``, ``w_i``), a 3x3 group convolution of bottleneck width
    ``widths[i] * bot_muls[i]`` (``b_i``) in groups of ``group_widths[i]``
    channels (``g_i``), and squeeze-excitation of ratio ``se_ratio``.
    ``group_widths`` and ``bot_muls`` may be one number for every stage.

    Raises:
        ValueError: lists of different lengths, a non-positive value or a
            group width that does not divide its bottleneck width, naming
            the field and value.
    """
    depths: Tuple[int, ...]
    widths: Tuple[int, ...]
    group_widths: Tuple[int, ...]
    bot_muls: Tuple[float, ...] = 1.0
    se_ratio: float = 0.0

    def __post_init__(self):
        depths = _per_stage('depths', self.depths)
        for name in ('depths', 'widths', 'group_widths', 'bot_muls'):
            values = _per_stage(name, getattr(self, name), len(depths))
            object.__setattr__(self, name, values)
            for i, value in enumerate(values):
                if name == 'bot_muls':
                    check_number(f'bot_muls[{i}]', value)
                    if not value > 0:
                        raise ValueError(f'bot_muls[{i}] must be > 0, got '
                                         f'bot_muls[{i}]={value!r}')
                else:
                    check_int(f'{name}[{i}]', value, minimum=1)
        check_se_ratio(self.se_ratio)
        for i, (width, bot_mul, group_w) in enumerate(
                zip(self.widths, self.bot_muls, self.group_widths)):
            bottleneck = int(round(width * bot_mul))
            if bottleneck < 1 or bottleneck % group_w:
                raise ValueError(
                    f'group_widths[{i}]={group_w} does not divide the '
                    f'bottleneck width {bottleneck} of stage {i} (widths[{i}]='
                    f'{width} x bot_muls[{i}]={bot_mul}); use a divisor of '
                    f'{bottleneck}')

    def as_dict(self) -> dict:
        """The arch as a config dict of lists (``RegNet(arch=...)``)."""
        return dict(
            depths=list(self.depths),
            widths=list(self.widths),
            group_widths=list(self.group_widths),
            bot_muls=list(self.bot_muls),
            se_ratio=self.se_ratio)


def _per_stage(name, values, num_stages=None) -> tuple:
    """A per-stage field as a tuple: a list of ``num_stages`` values, or one
    number repeated (``depths``, which sets ``num_stages``, must be a list)."""
    if num_stages is not None and isinstance(values, (int, float)):
        return (values, ) * num_stages
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f'{name} must be a non-empty list with one value per '
                         f'stage, got {name}={values!r}')
    if num_stages is not None and len(values) != num_stages:
        raise ValueError(
            f'{name} has {len(values)} values but depths has {num_stages} '
            f'stages: {name}={list(values)!r}; give one value per stage')
    return tuple(values)


def _x(w0, wa, wm, depth, group_w):
    return RegNetParams(w0, wa, wm, depth, group_w)


def _y(w0, wa, wm, depth, group_w):
    return RegNetParams(w0, wa, wm, depth, group_w, se_ratio=0.25)


#: The 24 published models (pycls model zoo): RegNetX and RegNetY.
ARCH_SETTINGS: Dict[str, RegNetParams] = {
    'regnetx_200mf': _x(24, 36.44, 2.49, 13, 8),
    'regnetx_400mf': _x(24, 24.48, 2.54, 22, 16),
    'regnetx_600mf': _x(48, 36.97, 2.24, 16, 24),
    'regnetx_800mf': _x(56, 35.73, 2.28, 16, 16),
    'regnetx_1.6gf': _x(80, 34.01, 2.25, 18, 24),
    'regnetx_3.2gf': _x(88, 26.31, 2.25, 25, 48),
    'regnetx_4.0gf': _x(96, 38.65, 2.43, 23, 40),
    'regnetx_6.4gf': _x(184, 60.83, 2.07, 17, 56),
    'regnetx_8.0gf': _x(80, 49.56, 2.88, 23, 120),
    'regnetx_12gf': _x(168, 73.36, 2.37, 19, 112),
    'regnetx_16gf': _x(216, 55.59, 2.1, 22, 128),
    'regnetx_32gf': _x(320, 69.86, 2.0, 23, 168),
    'regnety_200mf': _y(24, 36.44, 2.49, 13, 8),
    'regnety_400mf': _y(48, 27.89, 2.09, 16, 8),
    'regnety_600mf': _y(48, 32.54, 2.32, 15, 16),
    'regnety_800mf': _y(56, 38.84, 2.4, 14, 16),
    'regnety_1.6gf': _y(48, 20.71, 2.65, 27, 24),
    'regnety_3.2gf': _y(80, 42.63, 2.66, 21, 24),
    'regnety_4.0gf': _y(96, 31.41, 2.24, 22, 64),
    'regnety_6.4gf': _y(112, 33.22, 2.27, 25, 72),
    'regnety_8.0gf': _y(192, 76.82, 2.19, 17, 56),
    'regnety_12gf': _y(168, 73.36, 2.37, 19, 112),
    'regnety_16gf': _y(200, 106.23, 2.48, 18, 112),
    'regnety_32gf': _y(232, 115.89, 2.53, 20, 232),
}

#: Archs beyond the 24 that peers publish weights for (no ImageNet training
#: config): the SEER sizes (Goyal et al., 2021; timm's ``regnety_640``,
#: ``regnety_1280``, ``regnety_2560``, transformers' ``regnet-y-10b-seer``),
#: of which 128GF is also torchvision's ``regnet_y_128gf`` (SWAG weights).
#: :func:`resolve_arch` (and so the backbone) accepts their names too.
EXTRA_ARCH_SETTINGS: Dict[str, RegNetParams] = {
    'regnety_64gf': _y(352, 147.48, 2.4, 20, 328),
    'regnety_128gf': _y(456, 160.83, 2.52, 27, 264),
    'regnety_256gf': _y(640, 230.83, 2.53, 27, 373),
    'regnety_10b': _y(1744, 620.83, 2.52, 27, 1010),
}

#: Every arch name :func:`resolve_arch` accepts.
NAMED_ARCHS: Dict[str, RegNetParams] = {
    **ARCH_SETTINGS,
    **EXTRA_ARCH_SETTINGS
}

ArchLike = Union[str, Mapping, RegNetParams, AnyNetParams]
#: Keys that make a dict an AnyNet rather than RegNet design parameters.
ANYNET_KEYS = frozenset(('depths', 'widths', 'group_widths', 'bot_muls'))


def resolve_arch(arch: ArchLike) -> Union[RegNetParams, AnyNetParams]:
    """Return the design parameters for an arch name, a dict or params.

    Names are those of :data:`ARCH_SETTINGS` and
    :data:`EXTRA_ARCH_SETTINGS`. A dict with any of :data:`ANYNET_KEYS`
    describes an :class:`AnyNetParams`, any other a :class:`RegNetParams`.

    Raises:
        ValueError: an unknown name (close matches and all names listed) or a
            dict with unknown or missing keys or bad values.
        TypeError: ``arch`` of another type, or a field of the wrong type.
    """
    if isinstance(arch, (RegNetParams, AnyNetParams)):
        return arch
    if isinstance(arch, str):
        if arch in NAMED_ARCHS:
            return NAMED_ARCHS[arch]
        close = difflib.get_close_matches(arch.lower(), NAMED_ARCHS, n=3)
        hint = f' Did you mean {", ".join(close)}?' if close else ''
        raise ValueError(f'Unknown RegNet arch {arch!r}.{hint} '
                         f'Valid names: {", ".join(NAMED_ARCHS)}')
    if isinstance(arch, Mapping):
        anynet = bool(ANYNET_KEYS & set(arch))
        kind, params_type = ('AnyNet', AnyNetParams) if anynet else \
            ('RegNet', RegNetParams)
        fields = [f.name for f in dataclasses.fields(params_type)]
        required = [
            f.name for f in dataclasses.fields(params_type)
            if f.default is dataclasses.MISSING
        ]
        unknown = sorted(set(arch) - set(fields))
        if unknown:
            raise ValueError(f'Unknown {kind} arch keys {unknown}; '
                             f'accepted keys: {fields}')
        missing = [k for k in required if k not in arch]
        if missing:
            raise ValueError(f'{kind} arch dict misses keys {missing}; '
                             f'required keys: {required}')
        return params_type(**arch)
    raise TypeError('arch must be an arch name (str), a dict of design '
                    'parameters or per-stage lists, RegNetParams or '
                    f'AnyNetParams, got {type(arch).__name__}')


def quantized_block_widths(w0: int,
                           wa: float,
                           wm: float,
                           depth: int,
                           q: int = WIDTH_QUANTUM) -> Tuple[int, ...]:
    """Per-block widths: ``u_j = w0 + wa*j`` snapped to ``w0 * wm**s_j``
    and rounded to a multiple of ``q`` (pycls ``generate_regnet``)."""
    return tuple(
        int(round(w0 * wm**step / q)) * q
        for step in _block_steps(w0, wa, wm, depth))


def _block_steps(w0, wa, wm, depth) -> List[int]:
    """Step ``s_j = round(log(u_j / w0) / log(wm))`` of every block."""
    if wm == 1:
        return [0] * depth
    return [
        round(math.log((w0 + wa * j) / w0) / math.log(wm))
        for j in range(depth)
    ]


@dataclass(frozen=True)
class StageSpec:
    """One stage: ``depth`` blocks of output width ``width``."""
    width: int
    depth: int
    group_w: int
    bot_mul: float = 1.0
    se_ratio: float = 0.0

    @property
    def bottleneck_width(self) -> int:
        """Width ``w_i * b`` of the 3x3 group convolution."""
        return int(round(self.width * self.bot_mul))

    @property
    def groups(self) -> int:
        return self.bottleneck_width // self.group_w

    def se_width(self, in_width: int) -> int:
        """Squeeze width for a block whose input has ``in_width`` channels
        (0: no squeeze-excitation)."""
        if not self.se_ratio:
            return 0
        return max(1, int(round(in_width * self.se_ratio)))


def _round_to_multiple(value: float, multiple: int, rounding: str) -> int:
    if rounding == 'pycls':  # round half to even, at least one multiple
        return max(multiple, int(round(value / multiple) * multiple))
    # torchvision's _make_divisible: half up, never more than 10% below
    rounded = max(multiple, int(value + multiple / 2) // multiple * multiple)
    return rounded + multiple if rounded < 0.9 * value else rounded


def _compatible_stage(width: int, bot_mul: float, group_w: int,
                      rounding: str = 'pycls') -> Tuple[int, int]:
    """``(width, group_w)`` with the bottleneck width ``w * b`` rounded to a
    multiple of ``g`` (of ``lcm(g, b)`` for an integer ``b > 1``), and ``g``
    capped at ``w * b`` (pycls ``adjust_block_compatibility``)."""
    bottleneck = int(max(1, width * bot_mul))
    group_w = min(group_w, bottleneck)
    multiple = math.lcm(group_w, int(bot_mul)) if bot_mul > 1 else group_w
    bottleneck = _round_to_multiple(bottleneck, multiple, rounding)
    return int(bottleneck / bot_mul), group_w


def _check_rounding(rounding):
    if rounding not in ROUNDING_MODES:
        raise ValueError(f'rounding must be one of {ROUNDING_MODES}, '
                         f'got rounding={rounding!r}')


def stage_specs(arch: ArchLike,
                rounding: str = 'pycls',
                q: int = WIDTH_QUANTUM) -> Tuple[StageSpec, ...]:
    """Stage widths, depths and group widths of a RegNet or an AnyNet.

    Group widths are made compatible with the bottleneck widths by rounding
    ``w_i * b`` to a multiple of ``g``: ``rounding='pycls'`` (the paper's
    code, default) or ``'torchvision'`` (wider X-400MF, Y-800MF, Y-8GF).

    A stage whose bottleneck width is below ``g`` uses ``g = w_i * b``
    (pycls; needed by X-8.0GF, whose first stage is 80 wide with ``g=120``).
    An AnyNet's stages are taken as given (``rounding`` does not apply:
    :class:`AnyNetParams` already requires compatible widths).

    Raises:
        ValueError: a group width above every bottleneck width, or more than
            four stages, naming the offending values.
    """
    _check_rounding(rounding)
    params = resolve_arch(arch)
    if isinstance(params, AnyNetParams):
        return tuple(
            StageSpec(width, depth, group_w, bot_mul, params.se_ratio)
            for depth, width, group_w, bot_mul in zip(
                params.depths, params.widths, params.group_widths,
                params.bot_muls))
    widths = quantized_block_widths(params.w0, params.wa, params.wm,
                                    params.depth, q)
    if widths[0] <= 0:
        raise ValueError(f'w0={params.w0} quantises to width 0 '
                         f'(multiples of q={q}); use w0 >= {q // 2 + 1}')
    stages = []  # [width, depth] in block order
    for width in widths:
        if stages and stages[-1][0] == width:
            stages[-1][1] += 1
        else:
            stages.append([width, 1])
    if len(stages) > MAX_STAGES:
        raise ValueError(
            f'{params} gives {len(stages)} stages (widths '
            f'{[w for w, _ in stages]}); RegNet has 1 to {MAX_STAGES} stages')

    widest = int(stages[-1][0] * params.bot_mul)
    if params.group_w > widest:
        raise ValueError(
            f'group_w={params.group_w} exceeds every bottleneck width (the '
            f'widest is {widest} = {stages[-1][0]} x bot_mul '
            f'{params.bot_mul}); choose group_w <= {widest}')
    specs = []
    for width, depth in stages:
        # a stage narrower than g uses g = w_i * b, as pycls does (X-8.0GF)
        width, group_w = _compatible_stage(width, params.bot_mul,
                                           params.group_w, rounding)
        specs.append(
            StageSpec(
                width=width,
                depth=depth,
                group_w=group_w,
                bot_mul=params.bot_mul,
                se_ratio=params.se_ratio))
    return tuple(specs)


@dataclass(frozen=True)
class Complexity:
    """Parameters, multiply-adds (``flops``) and activations of a model."""
    params: int
    flops: int
    acts: int


class _Counter:
    """Accumulates pycls-style complexity while walking the network."""

    def __init__(self, height: int, width: int):
        self.h, self.w = height, width
        self.params = self.flops = self.acts = 0

    def conv(self, c_in, c_out, k, stride=1, groups=1, dilation=1, bias=False):
        pad = dilation * (k - 1) // 2
        self.h = (self.h + 2 * pad - dilation * (k - 1) - 1) // stride + 1
        self.w = (self.w + 2 * pad - dilation * (k - 1) - 1) // stride + 1
        hw = self.h * self.w
        self.flops += k * k * c_in * c_out * hw // groups + (c_out * hw
                                                             if bias else 0)
        self.params += k * k * c_in * c_out // groups + (c_out if bias else 0)
        self.acts += c_out * hw

    def norm(self, channels):
        self.params += 2 * channels

    def squeeze_excitation(self, channels, squeeze):
        h, w = self.h, self.w
        self.h = self.w = 1
        self.conv(channels, squeeze, 1, bias=True)
        self.conv(squeeze, channels, 1, bias=True)
        self.h, self.w = h, w

    def linear(self, c_in, c_out):
        self.flops += c_in * c_out + c_out
        self.params += c_in * c_out + c_out
        self.acts += c_out


def _as_pair(size) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    height, width = size
    return int(height), int(width)


def complexity(stages: Union[Sequence[StageSpec], ArchLike],
               input_size: Union[int, Tuple[int, int]] = 224,
               num_classes: int = 1000,
               in_channels: int = 3,
               stem_channels: int = 32,
               strides: Sequence[int] = None,
               dilations: Sequence[int] = None) -> Complexity:
    """Analytic complexity of stem, stages and (if ``num_classes``) the
    average-pool + linear head, counted like pycls (norm layers: 2 params per
    channel, no flops). Equals ``sum(p.numel())`` of the built model.

    ``stages`` are :class:`StageSpec` s or an arch (name, dict of design
    parameters or of per-stage lists), turned into stages by
    :func:`stage_specs` with pycls rounding."""
    if not isinstance(stages, (list, tuple)):
        stages = stage_specs(stages)
    strides = strides or [2] * len(stages)
    dilations = dilations or [1] * len(stages)
    counter = _Counter(*_as_pair(input_size))
    counter.conv(in_channels, stem_channels, 3, stride=2)
    counter.norm(stem_channels)
    c_in = stem_channels
    for spec, stride, dilation in zip(stages, strides, dilations):
        for block in range(spec.depth):
            block_stride = stride if block == 0 else 1
            h, w = counter.h, counter.w
            if block_stride != 1 or c_in != spec.width:
                counter.conv(c_in, spec.width, 1, stride=block_stride)
                counter.norm(spec.width)
                counter.h, counter.w = h, w
            w_b = spec.bottleneck_width
            counter.conv(c_in, w_b, 1)
            counter.norm(w_b)
            counter.conv(
                w_b, w_b, 3, block_stride, spec.groups, dilation=dilation)
            counter.norm(w_b)
            if spec.se_ratio:
                counter.squeeze_excitation(w_b, spec.se_width(c_in))
            counter.conv(w_b, spec.width, 1)
            counter.norm(spec.width)
            c_in = spec.width
    if num_classes:
        counter.linear(c_in, num_classes)
    return Complexity(counter.params, counter.flops, counter.acts)


def _as_anynet(arch: ArchLike, rounding: str = 'pycls') -> AnyNetParams:
    """Any arch as explicit stages (a RegNet through :func:`stage_specs`)."""
    stages = stage_specs(arch, rounding=rounding)
    return AnyNetParams(
        depths=tuple(s.depth for s in stages),
        widths=tuple(s.width for s in stages),
        group_widths=tuple(s.group_w for s in stages),
        bot_muls=tuple(s.bot_mul for s in stages),
        se_ratio=stages[0].se_ratio)


# Model scaling ("Fast and Accurate Model Scaling", pycls models/scaler.py)

#: The paper's fast compound scaling: flops ~ s, mostly through width.
FAST_COMPOUND_SCALING = 'd1_w8_g8_r1'
#: :func:`scale` with ``flops=`` lands within this relative error.
FLOPS_TOLERANCE = 0.03


class Scaled(NamedTuple):
    """A scaled model: an AnyNet arch dict and its input size."""
    arch: dict
    input_size: int


def _scaling_weights(scaling: str) -> Dict[str, float]:
    error = ValueError(
        "scaling must be letters of 'dwgr' (e.g. 'dw', each weighing 1) or "
        "letter-weight pairs joined by '_' (e.g. 'd1_w8_g8_r1'), got "
        f'scaling={scaling!r}')
    if not isinstance(scaling, str) or not scaling:
        raise error
    if all(letter in 'dwgr' for letter in scaling):
        return {letter: float(letter in scaling) for letter in 'dwgr'}
    weights = dict.fromkeys('dwgr', 0.0)
    for part in scaling.split('_'):
        letter, weight = part[:1], part[1:]
        try:
            weights[letter] = float(weight)
        except ValueError:
            raise error from None
        if letter not in 'dwgr' or not 0 <= weights[letter] < math.inf:
            raise error
    return weights


def scaling_factors(scaling: str,
                    factor: float) -> Tuple[float, float, float, float]:
    """Depth, width, group-width and resolution factors ``(d, w, g, r)``.

    ``scaling`` gives each dimension a weight (pycls's scaling types): with
    ``S = wd + ww + wr`` (or ``wg / 2`` if that is 0, or 1),
    ``d = s**(wd/S)``, ``w = s**(ww/2S)``, ``g = s**(wg/2S)`` and
    ``r = s**(wr/2S)``, so that flops, about ``d * w**2 * r**2``, grow by
    the factor ``s``.
    """
    check_number('factor', factor)
    if not factor > 0:
        raise ValueError(f'factor must be > 0, got factor={factor!r}')
    weights = _scaling_weights(scaling)
    total = weights['d'] + weights['w'] + weights['r'] or \
        weights['g'] / 2 or 1.0
    return (factor**(weights['d'] / total), factor**(weights['w'] / total / 2),
            factor**(weights['g'] / total / 2),
            factor**(weights['r'] / total / 2))


def _scale_anynet(arch: AnyNetParams, factor: float, scaling: str,
                  input_size: int) -> Tuple[AnyNetParams, int]:
    d, w, g, r = scaling_factors(scaling, factor)
    depths = [max(1, round(depth * d)) for depth in arch.depths]
    widths = [
        max(1, round(width * w / WIDTH_QUANTUM)) * WIDTH_QUANTUM
        for width in arch.widths
    ]
    groups = [max(1, round(group_w * g)) for group_w in arch.group_widths]
    # small group widths stay fine-grained, larger ones are multiples of 8
    groups = [
        group_w if group_w <= 2 else 4 if group_w <= 5 else
        round(group_w / 8) * 8 for group_w in groups
    ]
    stages = [
        _compatible_stage(width, bot_mul, group_w)
        for width, bot_mul, group_w in zip(widths, arch.bot_muls, groups)
    ]
    scaled = AnyNetParams(depths, [width for width, _ in stages],
                          [group_w for _, group_w in stages], arch.bot_muls,
                          arch.se_ratio)
    return scaled, round(input_size * r / 4) * 4


def scale(arch: ArchLike,
          factor: Optional[float] = None,
          *,
          flops: Optional[float] = None,
          scaling: str = FAST_COMPOUND_SCALING,
          input_size: int = 224,
          rounding: str = 'pycls',
          complexity_kwargs: Optional[Mapping] = None) -> Scaled:
    """Scale a RegNet or an AnyNet by ``factor`` (about that many times the
    flops) or to ``flops`` multiply-adds, as pycls's scaler does.

    The arch is first turned into its stages (:func:`stage_specs` with
    ``rounding``). With the factors of :func:`scaling_factors`, stage ``i``
    gets depth ``max(1, round(d_i * d))``, width
    ``max(1, round(w_i * w / 8)) * 8`` and group width
    ``max(1, round(g_i * g))``, kept if at most 2, else 4 if at most 5, else
    rounded to a multiple of 8; then bottleneck and group widths are made
    compatible. The input size becomes ``round(input_size * r / 4) * 4``.

    With ``flops``, the factor comes from :func:`scale_factor_for`, counting
    with ``complexity(..., **complexity_kwargs)`` (default: a 1000-class
    head) at the scaled input size.

    Returns:
        Scaled: ``(arch, input_size)``, ``arch`` an AnyNet dict.
    """
    if (factor is None) == (flops is None):
        raise ValueError('give exactly one of factor and flops, got '
                         f'factor={factor!r}, flops={flops!r}')
    check_int('input_size', input_size, minimum=1)
    if flops is not None:
        factor = scale_factor_for(
            arch,
            flops,
            scaling=scaling,
            input_size=input_size,
            rounding=rounding,
            complexity_kwargs=complexity_kwargs)
    scaled, size = _scale_anynet(
        _as_anynet(arch, rounding), factor, scaling, input_size)
    return Scaled(scaled.as_dict(), size)


def scale_factor_for(arch: ArchLike,
                     flops: float,
                     *,
                     scaling: str = FAST_COMPOUND_SCALING,
                     input_size: int = 224,
                     rounding: str = 'pycls',
                     complexity_kwargs: Optional[Mapping] = None,
                     tolerance: float = FLOPS_TOLERANCE) -> float:
    """The factor with which :func:`scale` gives the model closest to
    ``flops`` multiply-adds (bisection on ``log s``; rounding makes flops a
    step function of ``s``).

    Raises:
        ValueError: no factor lands within ``tolerance``, naming the closest
            flops reached.
    """
    check_number('flops', flops)
    if not flops > 0:
        raise ValueError(f'flops must be > 0, got flops={flops!r}')
    check_int('input_size', input_size, minimum=1)
    kwargs = dict(complexity_kwargs or {})
    if 'input_size' in kwargs:
        raise ValueError('complexity_kwargs must not hold input_size: the '
                         'scaled input size is counted')
    anynet = _as_anynet(arch, rounding)
    reached = {}  # factor -> flops

    def flops_at(log_factor):
        factor = math.exp(log_factor)
        scaled, size = _scale_anynet(anynet, factor, scaling, input_size)
        reached[factor] = complexity(
            stage_specs(scaled), input_size=size, **kwargs).flops
        return reached[factor]

    limit = math.log(1e6)
    low = high = math.log(flops / flops_at(0.0))
    while flops_at(low) > flops and low > -limit:
        low -= math.log(2)
    while flops_at(high) < flops and high < limit:
        high += math.log(2)
    for _ in range(40):
        middle = (low + high) / 2
        if flops_at(middle) < flops:
            low = middle
        else:
            high = middle
    best = min(reached, key=lambda f: abs(reached[f] / flops - 1))
    if abs(reached[best] / flops - 1) > tolerance:
        below = [f for f in reached if reached[f] < flops]
        above = [f for f in reached if reached[f] >= flops]
        nearest = [f'factor {f:.4g}: {reached[f]:,} flops' for f in (
            max(below, key=reached.get, default=None),
            min(above, key=reached.get, default=None)) if f is not None]
        raise ValueError(
            f'no factor of scaling={scaling!r} gives {flops:,.0f} flops '
            f'within {tolerance:.0%} (the rounding of depths, widths and '
            f'group widths jumps over it); nearest: {"; ".join(nearest)}. '
            'Pass one of these factors, or another scaling or target')
    return best


# Sampling the design space (pycls sweep/samplers.py and sweep/random.py)

#: The RegNet design space of pycls's sweeps: ``(lo, hi)`` per parameter.
SAMPLE_RANGES = dict(
    depth=(12, 28),
    w0=(8, 256),
    wa=(8.0, 256.0),
    wm=(2.0, 3.0),
    group_w=(8, 128),
    bot_mul=(1.0, 1.0))


def _quantize(value: float, q, rounding: Callable[[float], int]):
    """``value`` floored or ceiled to a multiple of ``q``, of ``q``'s type
    (exact decimal multiples, e.g. 0.1 steps)."""
    return type(q)(Decimal(rounding(value / q)) * Decimal(str(q)))


def _uniform(rng: random.Random, low, high, q):
    """Uniform in ``[low, high]`` on multiples of ``q``."""
    return _quantize(rng.uniform(low, high + q), q, math.floor)


def _log_uniform(rng: random.Random, low, high, q):
    """Log-uniform in ``[low, high]`` on multiples of ``q``."""
    bottom = math.log(low - min(q, low / 2))
    return _quantize(
        math.exp(rng.uniform(bottom, math.log(high))), q, math.ceil)


def _power2_uniform(rng: random.Random, low, high, q):
    """A uniformly drawn power of 2 in ``[low, high]``."""
    power = math.floor(rng.uniform(math.log2(low), math.log2(high) + 1))
    return _quantize(2**power, q, math.floor)


def _power2_or_log_uniform(rng: random.Random, low, high, q):
    """Powers of 2 below ``q``, log-uniform multiples of ``q`` above."""
    value = _power2_uniform(rng, low, high, low)
    if value >= q:
        return _log_uniform(rng, max(low, q), high, min(high, q))
    return value


#: parameter: (distribution, quantum), in pycls's order of drawing
_SAMPLERS = dict(
    depth=(_uniform, 1),
    w0=(_log_uniform, 8),
    wa=(_log_uniform, 0.1),
    wm=(_log_uniform, 0.001),
    group_w=(_power2_or_log_uniform, 8),
    bot_mul=(_power2_uniform, 1 / 128))


def _sample_ranges(ranges: Optional[Mapping]) -> Dict[str, tuple]:
    merged = dict(SAMPLE_RANGES)
    if ranges is None:
        return merged
    if not isinstance(ranges, Mapping):
        raise TypeError(f'ranges must be a dict, got {type(ranges).__name__}')
    unknown = sorted(set(ranges) - set(SAMPLE_RANGES))
    if unknown:
        raise ValueError(f'Unknown ranges keys {unknown}; accepted keys: '
                         f'{list(SAMPLE_RANGES)}')
    for name, value in ranges.items():
        distribution, q = _SAMPLERS[name]
        power2 = distribution in (_power2_uniform, _power2_or_log_uniform)
        rule = 'powers of 2' if power2 else f'multiples of {q}'

        def fits(v):
            if power2:
                return math.log2(v).is_integer()
            return Decimal(str(v)) % Decimal(str(q)) == 0

        if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool)
                and 0 < v < math.inf for v in value)
                and value[0] <= value[1] and all(fits(v) for v in value)):
            raise ValueError(f'ranges[{name!r}] must be (lo, hi) with '
                             f'0 < lo <= hi, both {rule}, got {value!r}')
        merged[name] = tuple(value)
    return merged


def _complexity_bounds(**limits) -> Dict[str, Tuple[float, float]]:
    bounds = {}
    for name, value in limits.items():
        if value is None:
            continue
        if not (isinstance(value, (list, tuple)) and len(value) == 2
                and all(isinstance(v, (int, float)) for v in value)
                and 0 <= value[0] <= value[1]):
            raise ValueError(f'{name} must be (lo, hi) with 0 <= lo <= hi, '
                             f'got {name}={value!r}')
        bounds[name] = tuple(value)
    return bounds


def _is_four_stage_regnet(design: Mapping) -> bool:
    """Exactly four stages on consecutive width steps (pycls's
    ``num_stages == total_stages``), and a valid group width."""
    steps = _block_steps(design['w0'], design['wa'], design['wm'],
                         design['depth'])
    widths = quantized_block_widths(design['w0'], design['wa'], design['wm'],
                                    design['depth'])
    if len(set(widths)) != MAX_STAGES or max(steps) + 1 != MAX_STAGES:
        return False
    try:
        stage_specs(design)
    except ValueError:  # a group width above every stage's width
        return False
    return True


def sample(num: int,
           *,
           seed: int = 0,
           flops: Optional[Tuple[float, float]] = None,
           params: Optional[Tuple[float, float]] = None,
           se_ratio: float = 0.0,
           ranges: Optional[Mapping] = None,
           complexity_kwargs: Optional[Mapping] = None,
           max_draws: int = 100_000) -> List[dict]:
    """``num`` distinct RegNets drawn from the design space like pycls's
    sweeps (same ``seed``, same list).

    Each draw takes, in this order: ``depth`` uniform, ``w0`` (multiple of
    8), ``wa`` (step 0.1) and ``wm`` (step 0.001) log-uniform, ``group_w``
    log-uniform on multiples of 8 (powers of 2 below 8), ``bot_mul`` a power
    of 2, each within :data:`SAMPLE_RANGES` updated by ``ranges``. Draws
    with other than four stages, a group width wider than every stage,
    complexity outside ``flops=(lo, hi)`` or ``params=(lo, hi)`` (counted by
    ``complexity(..., **complexity_kwargs)``, default 224 x 224 and a
    1000-class head) and repeats are rejected.

    Returns:
        list[dict]: ``dict(w0, wa, wm, depth, group_w, bot_mul, se_ratio)``
        each, ready for ``RegNet(arch=...)``.

    Raises:
        ValueError: bad ranges or bounds, or fewer than ``num`` accepted
            samples in ``max_draws`` draws.
    """
    check_int('num', num, minimum=1)
    check_int('seed', seed, minimum=0)
    check_se_ratio(se_ratio)
    bounds = _complexity_bounds(flops=flops, params=params)
    ranges = _sample_ranges(ranges)
    kwargs = dict(complexity_kwargs or {})
    rng = random.Random(seed)
    samples, seen = [], set()
    for _ in range(max_draws):
        drawn = {
            name: distribution(rng, *ranges[name], q)
            for name, (distribution, q) in _SAMPLERS.items()
        }
        design = dict(
            w0=drawn['w0'],
            wa=drawn['wa'],
            wm=drawn['wm'],
            depth=drawn['depth'],
            group_w=drawn['group_w'],
            bot_mul=drawn['bot_mul'],
            se_ratio=se_ratio)
        key = tuple(design.values())
        if key in seen or not _is_four_stage_regnet(design):
            continue
        seen.add(key)
        cx = complexity(stage_specs(design), **kwargs)
        if all(lo <= getattr(cx, name) <= hi
               for name, (lo, hi) in bounds.items()):
            samples.append(design)
            if len(samples) == num:
                return samples
    raise ValueError(
        f'only {len(samples)} of num={num} samples in {max_draws:,} draws '
        f'have four stages and flops={flops}, params={params} (ranges '
        f'{ranges}); widen the bounds or the ranges')


# The quantized linear fit (the paper, section 4)


def fit_error(block_widths: Sequence[int],
              w0: int,
              wa: float,
              wm: float,
              depth: int,
              q: int = WIDTH_QUANTUM) -> float:
    """The paper's ``e_fit``: mean ``|log(w_j / w'_j)|`` over blocks between
    ``block_widths`` and the quantized widths ``w'_j`` of the parameters
    (0: reproduced exactly)."""
    widths = _check_block_widths(block_widths)
    if depth != len(widths):
        raise ValueError(f'depth={depth} differs from the '
                         f'{len(widths)} block widths')
    fitted = quantized_block_widths(w0, wa, wm, depth, q)
    if min(fitted) <= 0:
        return math.inf
    return sum(abs(math.log(w / f))
               for w, f in zip(widths, fitted)) / len(widths)


def _check_block_widths(block_widths) -> Tuple[int, ...]:
    widths = tuple(block_widths) if isinstance(block_widths,
                                               (list, tuple)) else ()
    if not widths or not all(
            isinstance(w, int) and not isinstance(w, bool) and w > 0
            for w in widths):
        raise ValueError('block_widths must be a non-empty list of positive '
                         f'ints, got block_widths={block_widths!r}')
    return widths


def fit(block_widths: Sequence[int], q: int = WIDTH_QUANTUM) -> dict:
    """Design parameters ``dict(w0, wa, wm, depth)`` whose quantized block
    widths (:func:`quantized_block_widths`) are ``block_widths``.

    Widths that some RegNet reproduces (stage widths rising one ``wm`` step
    per stage, like every published model) are solved exactly: for each
    ``w0`` and ``wm`` that quantize to the stage widths, the stage
    boundaries bound ``wa`` to an interval, and the most central solution
    is returned. Other widths get the best ``(w0, wa, wm)`` of a grid search
    on :func:`fit_error`, with a warning naming that error.
    """
    widths = _check_block_widths(block_widths)
    check_int('q', q, minimum=1)
    exact = _exact_fit(widths, q)
    if exact is not None:
        return exact
    best = _grid_fit(widths, q)
    warnings.warn(
        'no RegNet has exactly these block widths; the closest found, '
        f'{best}, has e_fit={fit_error(widths, **best, q=q):.4f}')
    return best


def _stage_runs(widths: Sequence[int]) -> Tuple[List[int], List[int]]:
    """Stage widths and the index of each stage's first block."""
    stage_widths, starts = [], []
    for j, width in enumerate(widths):
        if not stage_widths or width != stage_widths[-1]:
            stage_widths.append(width)
            starts.append(j)
    return stage_widths, starts


def _exact_fit(widths: Tuple[int, ...], q: int) -> Optional[dict]:
    depth = len(widths)
    stage_widths, starts = _stage_runs(widths)
    last = len(stage_widths) - 1
    if any(b <= a for a, b in zip(stage_widths, stage_widths[1:])):
        return None
    w0_candidates = sorted(
        (w0 for w0 in range(max(1, stage_widths[0] - q // 2),
                            stage_widths[0] + q // 2 + 1)
         if round(w0 / q) * q == stage_widths[0]),
        key=lambda w0: abs(w0 - stage_widths[0]))
    if last == 0:  # one stage: wm = 1 keeps every block on step 0
        return dict(w0=w0_candidates[0], wa=1.0, wm=1.0, depth=depth) \
            if w0_candidates else None
    for w0 in w0_candidates:
        # w0 * wm**s must round to stage width s
        wm_low = max(((w - q / 2) / w0)**(1 / s)
                     for s, w in enumerate(stage_widths) if s)
        wm_high = min(((w + q / 2) / w0)**(1 / s)
                      for s, w in enumerate(stage_widths) if s)
        wm_low = max(wm_low, 1.0)
        candidates = []  # (margin of a, wm)
        for i in range(1, 200):
            wm = wm_low + (wm_high - wm_low) * i / 200
            a_low, a_high = _slope_interval(wm, starts, depth, last)
            if a_low < a_high:
                candidates.append((a_high / a_low, wm))
        for _, wm in sorted(candidates, reverse=True)[:20]:
            # the fewest decimals that still fit
            for wm_try in [round(wm, digits) for digits in range(3, 7)]:
                a_low, a_high = _slope_interval(wm_try, starts, depth, last)
                wa = math.sqrt(a_low * a_high) * w0
                for wa_try in [round(wa, digits) for digits in range(2, 6)]:
                    if quantized_block_widths(w0, wa_try, wm_try, depth,
                                              q) == widths:
                        return dict(w0=w0, wa=wa_try, wm=wm_try, depth=depth)
    return None


def _slope_interval(wm: float, starts: Sequence[int], depth: int,
                    last: int) -> Tuple[float, float]:
    """Bounds on ``a = wa / w0`` that put block ``starts[s]`` first on step
    ``s``: ``(1 + a*j)`` crosses ``wm**(s - 1/2)`` between blocks
    ``starts[s] - 1`` and ``starts[s]``, and the last block stays below
    ``wm**(last + 1/2)``."""
    low, high = 0.0, math.inf
    for s in range(1, last + 1):
        edge = wm**(s - 0.5) - 1
        low = max(low, edge / starts[s])
        if starts[s] > 1:
            high = min(high, edge / (starts[s] - 1))
    if depth > 1:
        high = min(high, (wm**(last + 0.5) - 1) / (depth - 1))
    return low, high


def _grid_fit(widths: Tuple[int, ...], q: int) -> dict:
    """Grid search, then a finer one around the best, for the lowest
    :func:`fit_error`."""
    depth = len(widths)
    first, widest = widths[0], max(widths)

    def search(w0s, wms, was):
        return min(((fit_error(widths, w0, wa, wm, depth, q), w0, wa, wm)
                    for w0 in w0s for wm in wms for wa in was),
                   key=lambda t: t[0])

    w0s = sorted({max(q, round(first * 2**(k / 4) / q) * q)
                  for k in range(-4, 5)})
    wms = [round(1.5 + 0.05 * k, 3) for k in range(41)]
    slope = max(widest - first, q) / max(depth - 1, 1)
    was = [round(slope * 2**(k / 4), 2) for k in range(-8, 9)]
    _, w0, wa, wm = search(w0s, wms, was)
    _, w0, wa, wm = search(
        sorted({max(1, w0 + k) for k in range(-q // 2, q // 2 + 1)}),
        [max(1.0, round(wm + 0.005 * k, 3)) for k in range(-10, 11)],
        [round(wa * 2**(k / 32), 2) for k in range(-8, 9)])
    return dict(w0=w0, wa=wa, wm=wm, depth=depth)
