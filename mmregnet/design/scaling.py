"""Model scaling ("Fast and Accurate Model Scaling", Dollar et al., CVPR
2021, as pycls's scaler does it): grow or shrink a RegNet or an AnyNet along
depth, width, group width and resolution."""
import math
from typing import Dict, Mapping, NamedTuple, Optional, Tuple

from .complexity import complexity
from .space import (WIDTH_QUANTUM, AnyNetParams, ArchLike, check_int,
                    check_number, compatible_stage, stage_specs)

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
        compatible_stage(width, bot_mul, group_w)
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


def _as_anynet(arch: ArchLike, rounding: str = 'pycls') -> AnyNetParams:
    """Any arch as explicit stages (a RegNet through :func:`stage_specs`)."""
    stages = stage_specs(arch, rounding=rounding)
    return AnyNetParams(
        depths=tuple(s.depth for s in stages),
        widths=tuple(s.width for s in stages),
        group_widths=tuple(s.group_w for s in stages),
        bot_muls=tuple(s.bot_mul for s in stages),
        se_ratio=stages[0].se_ratio)
