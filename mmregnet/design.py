"""The RegNet design space as pure functions (no torch).

Symbols follow "Designing Network Design Spaces" (Radosavovic et al., 2020):

* ``u_j = w0 + wa * j`` for block ``j < d``: continuous per-block widths;
* ``s_j = round(log(u_j / w0) / log(wm))``: each block's step on the geometric
  width ladder ``w0 * wm**s``, quantised to a multiple of ``q = 8``;
* consecutive blocks of equal width form a stage ``i`` with width ``w_i`` and
  depth ``d_i``; the bottleneck width is ``w_i * b`` and groups have width ``g``;
* RegNetY adds squeeze-excitation whose width is ``se_ratio`` times the
  block *input* width.

``stage_specs`` turns design parameters into per-stage specs, and
``complexity`` counts parameters, multiply-adds and activations from those
specs alone, the way pycls does, so no module has to be built.
"""
import dataclasses
import difflib
import math
from dataclasses import dataclass
from typing import Dict, Mapping, Sequence, Tuple, Union

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
        check_number('se_ratio', self.se_ratio)
        if not 0 <= self.se_ratio < 1:
            raise ValueError(
                f'se_ratio must be in [0, 1), got se_ratio={self.se_ratio!r}')


def check_int(name, value, minimum):
    """Raise TypeError unless ``value`` is an int, ValueError if below
    ``minimum``; both messages name the argument and its value."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f'{name} must be an int, got {name}={value!r} '
                        f'({type(value).__name__})')
    if value < minimum:
        raise ValueError(f'{name} must be >= {minimum}, got {name}={value!r}')


def check_number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f'{name} must be a number, got {name}={value!r} '
                        f'({type(value).__name__})')
    if not math.isfinite(value):
        raise ValueError(f'{name} must be finite, got {name}={value!r}')


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

#: Archs beyond the 24 that peers publish weights for (no training config):
#: torchvision's ``regnet_y_128gf`` (timm's ``regnety_1280``), SWAG weights
#: only. :func:`resolve_arch` (and so the backbone) accepts their names too.
EXTRA_ARCH_SETTINGS: Dict[str, RegNetParams] = {
    'regnety_128gf': _y(456, 160.83, 2.52, 27, 264),
}

#: Every arch name :func:`resolve_arch` accepts.
NAMED_ARCHS: Dict[str, RegNetParams] = {
    **ARCH_SETTINGS,
    **EXTRA_ARCH_SETTINGS
}

ArchLike = Union[str, Mapping, RegNetParams]


def resolve_arch(arch: ArchLike) -> RegNetParams:
    """Return the design parameters for an arch name, a dict or params.

    Names are those of :data:`ARCH_SETTINGS` and
    :data:`EXTRA_ARCH_SETTINGS`.

    Raises:
        ValueError: an unknown name (close matches and all names listed) or a
            dict with unknown or missing keys or bad values.
        TypeError: ``arch`` of another type, or a field of the wrong type.
    """
    if isinstance(arch, RegNetParams):
        return arch
    if isinstance(arch, str):
        if arch in NAMED_ARCHS:
            return NAMED_ARCHS[arch]
        close = difflib.get_close_matches(arch.lower(), NAMED_ARCHS, n=3)
        hint = f' Did you mean {", ".join(close)}?' if close else ''
        raise ValueError(f'Unknown RegNet arch {arch!r}.{hint} '
                         f'Valid names: {", ".join(NAMED_ARCHS)}')
    if isinstance(arch, Mapping):
        fields = [f.name for f in dataclasses.fields(RegNetParams)]
        required = [
            f.name for f in dataclasses.fields(RegNetParams)
            if f.default is dataclasses.MISSING
        ]
        unknown = sorted(set(arch) - set(fields))
        if unknown:
            raise ValueError(f'Unknown RegNet arch keys {unknown}; '
                             f'accepted keys: {fields}')
        missing = [k for k in required if k not in arch]
        if missing:
            raise ValueError(f'RegNet arch dict misses keys {missing}; '
                             f'required keys: {required}')
        return RegNetParams(**arch)
    raise TypeError('arch must be an arch name (str), a dict of design '
                    f'parameters or RegNetParams, got {type(arch).__name__}')


def quantized_block_widths(w0: int,
                           wa: float,
                           wm: float,
                           depth: int,
                           q: int = WIDTH_QUANTUM) -> Tuple[int, ...]:
    """Per-block widths: ``u_j = w0 + wa*j`` snapped to ``w0 * wm**s_j``
    and rounded to a multiple of ``q`` (pycls ``generate_regnet``)."""
    widths = []
    for j in range(depth):
        u = w0 + wa * j
        step = 0 if wm == 1 else round(math.log(u / w0) / math.log(wm))
        widths.append(int(round(w0 * wm**step / q)) * q)
    return tuple(widths)


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


def _check_rounding(rounding):
    if rounding not in ROUNDING_MODES:
        raise ValueError(f'rounding must be one of {ROUNDING_MODES}, '
                         f'got rounding={rounding!r}')


def stage_specs(arch: ArchLike,
                rounding: str = 'pycls',
                q: int = WIDTH_QUANTUM) -> Tuple[StageSpec, ...]:
    """Stage widths, depths and group widths of a RegNet.

    Group widths are made compatible with the bottleneck widths by rounding
    ``w_i * b`` to a multiple of ``g``: ``rounding='pycls'`` (the paper's
    code, default) or ``'torchvision'`` (wider X-400MF, Y-800MF, Y-8GF).

    A stage whose bottleneck width is below ``g`` uses ``g = w_i * b``
    (pycls; needed by X-8.0GF, whose first stage is 80 wide with ``g=120``).

    Raises:
        ValueError: a group width above every bottleneck width, or more than
            four stages, naming the offending values.
    """
    _check_rounding(rounding)
    params = resolve_arch(arch)
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
            f'widest is {widest} = {stages[-1][0]} x bot_mul {params.bot_mul});'
            f' choose group_w <= {widest}')
    specs = []
    for width, depth in stages:
        bottleneck = int(width * params.bot_mul)
        # a stage narrower than g uses g = w_i * b, as pycls does (X-8.0GF)
        group_w = min(params.group_w, bottleneck)
        bottleneck = _round_to_multiple(bottleneck, group_w, rounding)
        specs.append(
            StageSpec(
                width=int(bottleneck / params.bot_mul),
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


def complexity(stages: Sequence[StageSpec],
               input_size: Union[int, Tuple[int, int]] = 224,
               num_classes: int = 1000,
               in_channels: int = 3,
               stem_channels: int = 32,
               strides: Sequence[int] = None,
               dilations: Sequence[int] = None) -> Complexity:
    """Analytic complexity of stem, stages and (if ``num_classes``) the
    average-pool + linear head, counted like pycls (norm layers: 2 params per
    channel, no flops). Equals ``sum(p.numel())`` of the built model."""
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
