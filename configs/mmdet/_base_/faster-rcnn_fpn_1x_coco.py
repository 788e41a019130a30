# mmdet's recipe (faster-rcnn_regnetx-3.2GF_fpn_1x_coco) with mmregnet's
# backbone.
_base_ = [
    'mmdet::regnet/faster-rcnn_regnetx-3.2GF_fpn_1x_coco.py',
    './regnet_detection.py',
]
model = dict(
    backbone={{_base_.regnet_backbone}},
    data_preprocessor={{_base_.pycls_preprocessor}})
default_hooks = {{_base_.regnet_default_hooks}}
