_base_ = './_base_/mask-rcnn_fpn_ms-poly-3x_coco.py'
model = dict(
    backbone=dict(
        arch='regnetx_400mf',
        init_cfg=dict(checkpoint='open-mmlab://regnetx_400mf')),
    neck=dict(in_channels=[32, 64, 160, 384]))
