"""The model zoo as a table: the facts of every index entry that a user
choosing a model compares (publisher, arch, params, FLOPs, input size,
published accuracy), and the Pareto front of accuracy against latency.

Read from the model index (:mod:`mmregnet.model_index`) alone; no host
framework is imported. FLOPs are multiply-adds, as in the paper and the
metafiles.
"""
import math
import re
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from .model_index import is_detector, load_model_index, original_of

#: the publisher of an entry converted from another project's weights, by
#: that project's repository name (``Converted From: Code``)
PUBLISHERS = {'pycls': 'pycls', 'vision': 'torchvision',
              'pytorch-image-models': 'timm'}
#: the SEER weights (self-supervised, Instagram), whoever hosts them: the
#: entries whose names say ``seer``
SEER = 'SEER'
#: entries trained with this project's configs (no ``Converted From``)
OPENMMLAB = 'OpenMMLab'
_WEIGHTS_TAG = re.compile(r'_3rdparty-(?P<tag>[^_]+)_')
_ARCH = re.compile(r'regnet(?P<family>[xy])-(?P<size>[0-9.]+(?:mf|gf|b))')
_INPUT_SIZE = re.compile(r'-(?P<px>[0-9]+)px$')


class ZooEntry(NamedTuple):
    """One index entry. ``weights``: the publisher's recipe tag
    (``tv-v2``, ``timm-ra3``; empty for OpenMMLab's); ``arch``: the
    backbone's arch name (``'custom'`` where the entry's name has none);
    ``gflops``: giga multiply-adds at ``input_size`` (None where the index
    has none); metrics: the published ones, None where there are none."""
    name: str
    publisher: str
    weights: str
    arch: str
    params: Optional[int]
    gflops: Optional[float]
    input_size: int
    top1: Optional[float]
    top5: Optional[float]
    box_ap: Optional[float]
    mask_ap: Optional[float]
    detector: str  # the detector's collection ('Mask R-CNN (RegNet)'), or ''

    @property
    def family(self) -> str:
        """``RegNetX`` or ``RegNetY`` (from the arch name)."""
        return 'RegNetY' if self.arch.startswith('regnety') else 'RegNetX'


def publisher_of(meta) -> str:
    """Who trained an entry's weights: :data:`SEER`, :data:`OPENMMLAB` or
    the converted original's project (:data:`PUBLISHERS`, else its
    repository name)."""
    if 'seer' in meta.name.lower():
        return SEER
    original = original_of(meta)
    if original is None:
        return OPENMMLAB
    repo = original.code.rstrip('/').rsplit('/', 1)[-1]
    return PUBLISHERS.get(repo, repo)


def _metric(meta, key: str) -> Optional[float]:
    for result in meta.results:
        if key in (result.metrics or {}):
            return float(result.metrics[key])
    return None


def zoo_entry(meta) -> ZooEntry:
    """The :class:`ZooEntry` of an index entry. Arch and input size come
    from the index's naming (``regnety-16gf_..._in1k-384px``: arch
    ``regnety_16gf``, 384 px; 224 without a ``-<N>px`` suffix), so that the
    configs need not be read; mmregnet's tests check them against the
    configs."""
    metadata = meta.metadata
    flops = getattr(metadata, 'flops', None)
    params = getattr(metadata, 'parameters', None)
    detector = is_detector(meta)
    tag = _WEIGHTS_TAG.search(meta.name)
    arch = _ARCH.search(meta.name)
    size = _INPUT_SIZE.search(meta.name)
    return ZooEntry(
        name=meta.name,
        publisher=publisher_of(meta),
        weights=tag['tag'] if tag else '',
        arch=f'regnet{arch["family"]}_{arch["size"]}' if arch else 'custom',
        params=int(params) if params else None,
        gflops=float(flops) / 1e9 if flops else None,
        input_size=int(size['px']) if size else 224,
        top1=_metric(meta, 'Top 1 Accuracy'),
        top5=_metric(meta, 'Top 5 Accuracy'),
        box_ap=_metric(meta, 'box AP'),
        mask_ap=_metric(meta, 'mask AP'),
        detector=meta.in_collection if detector else '')


def zoo_entries(names: Optional[Sequence[str]] = None) -> List[ZooEntry]:
    """The entries of ``names`` (default: the whole index), by name."""
    index = load_model_index()
    names = sorted(index) if names is None else names
    return [zoo_entry(index[name.lower()]) for name in names]


def pareto_front(points: Dict[str, tuple]) -> List[str]:
    """The keys of ``points`` (key -> (cost, value)) that no other point
    dominates: none costs no more and is worth no less, with one of the two
    strictly. Of exact ties (same cost and value) every key stays. Sorted by
    cost."""
    front = []
    for key, (cost, value) in points.items():
        dominated = any(
            other_cost <= cost and other_value >= value and
            (other_cost < cost or other_value > value)
            for other_cost, other_value in points.values())
        if not dominated:
            front.append(key)
    return sorted(front, key=lambda k: (points[k][0], -points[k][1], k))


def measured_front(rows: Sequence[Dict[str, str]],
                   precision: str) -> Tuple[int, Dict[str, tuple], List[str]]:
    """From ``zoo_benchmark.py`` results rows: the smallest batch measured
    in ``precision``, name -> (ms/image, published top-1) at that batch of
    the entries with a top-1, and their :func:`pareto_front`."""
    mine = [r for r in rows if r['precision'] == precision and r['top1']]
    batch = min((int(r['batch']) for r in mine), default=1)
    points = {r['name']: (float(r['ms_per_image']), float(r['top1']))
              for r in mine if int(r['batch']) == batch}
    return batch, points, pareto_front(points)


def significant(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, never in exponent
    notation: 16051.2 -> ``'16050'``, 0.062291 -> ``'0.06229'``."""
    if not value:
        return '0'
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return f'{round(value, decimals):.{max(0, decimals)}f}'
