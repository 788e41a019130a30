_base_ = './_base_/mask-rcnn_fpn_1x_coco.py'
model = dict(
    backbone=dict(
        arch='regnetx_8.0gf',
        init_cfg=dict(checkpoint='open-mmlab://regnetx_8.0gf')),
    neck=dict(in_channels=[80, 240, 720, 1920]))
