_base_ = './_base_/mask-rcnn_fpn_ms-poly-3x_coco.py'
model = dict(
    backbone=dict(
        arch='regnetx_1.6gf',
        init_cfg=dict(checkpoint='open-mmlab://regnetx_1.6gf')),
    neck=dict(in_channels=[72, 168, 408, 912]))
