"""The RegNet design space: design parameters, the published archs and the
per-stage specs they give (pure functions, no torch).

Symbols follow "Designing Network Design Spaces" (Radosavovic et al., 2020):

* ``u_j = w0 + wa * j`` for block ``j < d``: continuous per-block widths;
* ``s_j = round(log(u_j / w0) / log(wm))``: each block's step on the geometric
  width ladder ``w0 * wm**s``, quantised to a multiple of ``q = 8``;
* consecutive blocks of equal width form a stage ``i`` with width ``w_i`` and
  depth ``d_i`` (:func:`group_stages`);
* the bottleneck width of stage ``i`` is ``w_b = round(w_i * b_i)``
  (:func:`bottleneck_width`), split into ``w_b / g_i`` groups of width
  ``g_i``. A RegNet's ``w_i`` and ``g_i`` are first made compatible
  (:func:`compatible_stage`): ``g_i`` is capped at ``floor(w_i * b_i)``,
  which is rounded to a multiple ``v`` of ``g_i``, and ``w_i = floor(v /
  b_i)``. pycls, timm and torchvision do the same: they truncate when making
  widths compatible and round when building the block, which for the
  published models (``b_i = 1``) agree;
* RegNetY adds squeeze-excitation whose width is ``se_ratio`` times the
  block *input* width.

:func:`stage_specs` turns design parameters (or an explicit AnyNet, one list
entry per stage) into per-stage :class:`StageSpec` s.
"""
import dataclasses
import difflib
import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, Sequence, Tuple, Union

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
    ``w_b = round(w_i * b_i)`` (``b_i``: ``bot_muls[i]``) in groups of
    ``group_widths[i]`` channels (``g_i``), and squeeze-excitation of ratio
    ``se_ratio``.
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
            bottleneck = bottleneck_width(width, bot_mul)
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
        for step in block_steps(w0, wa, wm, depth))


def block_steps(w0, wa, wm, depth) -> List[int]:
    """Step ``s_j = round(log(u_j / w0) / log(wm))`` of every block."""
    if wm == 1:
        return [0] * depth
    return [
        round(math.log((w0 + wa * j) / w0) / math.log(wm))
        for j in range(depth)
    ]


def group_stages(block_widths: Sequence[int]) -> Tuple[Tuple[int, int], ...]:
    """Consecutive blocks of equal width as stages ``(w_i, d_i)``."""
    stages = []  # [width, depth] in block order
    for width in block_widths:
        if stages and stages[-1][0] == width:
            stages[-1][1] += 1
        else:
            stages.append([width, 1])
    return tuple((width, depth) for width, depth in stages)


def bottleneck_width(width: int, bot_mul: float) -> int:
    """``w_b = round(w_i * b_i)``: the width of a block's 3x3 group
    convolution (as pycls's, timm's and torchvision's blocks build it)."""
    return int(round(width * bot_mul))


def _truncated_bottleneck(width: int, bot_mul: float) -> int:
    """``floor(w_i * b_i)``, from which :func:`compatible_stage` starts."""
    return int(width * bot_mul)


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
        """Width ``w_b`` of the 3x3 group convolution
        (:func:`bottleneck_width`)."""
        return bottleneck_width(self.width, self.bot_mul)

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


def compatible_stage(width: int,
                     bot_mul: float,
                     group_w: int,
                     rounding: str = 'pycls') -> Tuple[int, int]:
    """``(w_i, g_i)`` made compatible (pycls ``adjust_block_compatibility``):
    ``g_i`` capped at ``floor(w_i * b_i)``, that rounded to a multiple ``v``
    of ``g_i`` (of ``lcm(g_i, b_i)`` for an integer ``b_i > 1``), and
    ``w_i = floor(v / b_i)``."""
    bottleneck = max(1, _truncated_bottleneck(width, bot_mul))
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

    Group widths are made compatible with the bottleneck widths
    (:func:`compatible_stage`) by rounding ``floor(w_i * b)`` to a multiple
    of ``g``: ``rounding='pycls'`` (the paper's code, default) or
    ``'torchvision'`` (wider X-400MF, Y-800MF, Y-8GF).

    A stage whose bottleneck width is below ``g`` uses ``g = floor(w_i *
    b)`` (pycls; needed by X-8.0GF, whose first stage is 80 wide with
    ``g=120``).
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
    stages = group_stages(widths)
    if len(stages) > MAX_STAGES:
        raise ValueError(
            f'{params} gives {len(stages)} stages (widths '
            f'{[w for w, _ in stages]}); RegNet has 1 to {MAX_STAGES} stages')

    widest = _truncated_bottleneck(stages[-1][0], params.bot_mul)
    if params.group_w > widest:
        raise ValueError(
            f'group_w={params.group_w} exceeds every bottleneck width (the '
            f'widest is {widest} = {stages[-1][0]} x bot_mul '
            f'{params.bot_mul}); choose group_w <= {widest}')
    specs = []
    for width, depth in stages:
        # a stage narrower than g uses g = w_i * b, as pycls does (X-8.0GF)
        width, group_w = compatible_stage(width, params.bot_mul,
                                          params.group_w, rounding)
        specs.append(
            StageSpec(
                width=width,
                depth=depth,
                group_w=group_w,
                bot_mul=params.bot_mul,
                se_ratio=params.se_ratio))
    return tuple(specs)
