"""Whether a host framework can run here, asked without importing the host
(only mmcv's light package ``__init__``, to find its compiled ops): mmdet's
detectors need mmdet and mmcv's compiled ops (``mmcv._ext``: NMS,
RoIAlign, ...), which mmcv-lite leaves out."""
import importlib.metadata
import importlib.util
from typing import List


def missing_detection_stack() -> List[str]:
    """What of mmdet and mmcv's compiled ops is missing (empty: nothing)."""
    missing = []
    if importlib.util.find_spec('mmdet') is None:
        missing.append('mmdet is not installed')
    try:
        ops = importlib.util.find_spec('mmcv._ext') is not None
    except ModuleNotFoundError:  # no mmcv at all
        ops = False
    if not ops:
        try:
            lite = importlib.metadata.version('mmcv-lite')
            missing.append(f"mmcv's compiled ops are missing (mmcv-lite "
                           f'{lite} is installed, which has none)')
        except importlib.metadata.PackageNotFoundError:
            missing.append("mmcv's compiled ops (mmcv._ext) are missing")
    return missing
