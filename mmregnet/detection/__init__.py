"""Detection parts for mmdet hosts: a RoIAlign computed as matrix products
(:mod:`.roi_align`, torch only) and mmdet's RoI extractor using it
(:mod:`.roi_extractor`, registered as ``mmregnet.SeparableRoIExtractor``
when mmdet is installed)."""
from importlib.util import find_spec

from .roi_align import SeparableRoIAlign, roi_align

__all__ = ['SeparableRoIAlign', 'roi_align']
if find_spec('mmdet') is not None:
    from .roi_extractor import SeparableRoIExtractor  # noqa: F401
    __all__.append('SeparableRoIExtractor')
