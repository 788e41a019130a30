"""The quantized linear fit (the paper, section 4): design parameters
``(w0, wa, wm, d)`` from per-block widths, and its error ``e_fit``."""
import math
import warnings
from typing import Optional, Sequence, Tuple

from .space import (WIDTH_QUANTUM, check_int, group_stages,
                    quantized_block_widths)


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


def _exact_fit(widths: Tuple[int, ...], q: int) -> Optional[dict]:
    depth = len(widths)
    stage_widths, stage_depths = zip(*group_stages(widths))
    # the index of each stage's first block
    starts = [sum(stage_depths[:s]) for s in range(len(stage_depths))]
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
