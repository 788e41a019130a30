_base_ = './_base_/mask-rcnn_fpn_ms-poly-3x_coco.py'
model = dict(
    backbone=dict(
        arch='regnetx_800mf',
        init_cfg=dict(checkpoint='open-mmlab://regnetx_800mf')),
    neck=dict(in_channels=[64, 128, 288, 672]))
