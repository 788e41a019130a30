_base_ = './_base_/mask-rcnn_fpn_ms-poly-3x_coco.py'
model = dict(
    backbone=dict(
        arch='regnetx_4.0gf',
        init_cfg=dict(checkpoint='open-mmlab://regnetx_4.0gf')),
    neck=dict(in_channels=[80, 240, 560, 1360]))
