"""Detection parts for mmdet hosts: a RoIAlign computed as matrix products
(:mod:`.roi_align`, torch only) and mmdet's RoI extractor using it
(:mod:`.roi_extractor`), registered as ``mmregnet.SeparableRoIExtractor``
where mmdet can run (mmdet and mmcv's compiled ops installed; a detection
config elsewhere stops first with ``DetectionStackMissing``, which says
what to install)."""
from ..hosts import missing_detection_stack
from .roi_align import SeparableRoIAlign, roi_align

__all__ = ['SeparableRoIAlign', 'roi_align']
if not missing_detection_stack():
    from .roi_extractor import SeparableRoIExtractor  # noqa: F401
    __all__.append('SeparableRoIExtractor')
