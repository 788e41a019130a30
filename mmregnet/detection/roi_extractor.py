"""mmdet's RoI extractor with :class:`~.roi_align.SeparableRoIAlign`:
``bbox_roi_extractor=dict(type='mmregnet.SeparableRoIExtractor',
roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=2), ...)``.
It takes the arguments of mmdet's ``SingleRoIExtractor`` and computes the
same features; only the kernel differs."""
from typing import List

from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from torch import nn

from ..registry import MODELS
from .roi_align import SeparableRoIAlign

#: the keys of mmcv's ``RoIAlign`` that the separable kernel computes
#: (average pooling only)
ROI_LAYER_KEYS = ('output_size', 'sampling_ratio', 'aligned')


@MODELS.register_module()
class SeparableRoIExtractor(SingleRoIExtractor):
    """mmdet's ``SingleRoIExtractor`` (RoIs to FPN levels by scale) whose
    ``roi_layer`` (``type='RoIAlign'``, mmcv's arguments) runs as
    :class:`SeparableRoIAlign`."""

    def build_roi_layers(self, layer_cfg: dict,
                         featmap_strides: List[int]) -> nn.ModuleList:
        cfg = dict(layer_cfg)
        layer_type = cfg.pop('type', 'RoIAlign')
        if layer_type != 'RoIAlign':
            raise ValueError(
                f"SeparableRoIExtractor: roi_layer type {layer_type!r} is "
                "not RoIAlign; use mmdet's SingleRoIExtractor for other "
                'RoI layers')
        if cfg.pop('pool_mode', 'avg') != 'avg':
            raise ValueError('SeparableRoIExtractor: roi_layer pool_mode '
                             "must be 'avg' (the separable kernel averages)")
        unknown = sorted(set(cfg) - set(ROI_LAYER_KEYS))
        if unknown:
            raise ValueError(
                f'SeparableRoIExtractor: roi_layer keys {unknown} are not '
                f'used by the separable kernel; it takes '
                f'{", ".join(ROI_LAYER_KEYS)}')
        return nn.ModuleList(
            SeparableRoIAlign(spatial_scale=1 / stride, **cfg)
            for stride in featmap_strides)
