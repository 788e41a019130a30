# mmdet's recipe (mask-rcnn_regnetx-400MF_fpn_ms-poly-3x_coco) with mmregnet's
# backbone. mmdet trained these RegNetX weights with its default RGB
# statistics, which this family keeps (so the published weights reproduce);
# the RegNetY leaves use pycls's.
_base_ = [
    'mmdet::regnet/mask-rcnn_regnetx-400MF_fpn_ms-poly-3x_coco.py',
    './regnet_detection.py',
]
model = dict(backbone={{_base_.regnet_backbone}})
default_hooks = {{_base_.regnet_default_hooks}}
