"""Sampling the RegNet design space the way pycls's sweeps draw it."""
import math
import random
from decimal import Decimal
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from .complexity import complexity
from .space import (MAX_STAGES, block_steps, check_int, check_se_ratio,
                    quantized_block_widths, stage_specs)

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
    steps = block_steps(design['w0'], design['wa'], design['wm'],
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
