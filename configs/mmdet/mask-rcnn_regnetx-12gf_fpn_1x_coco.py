_base_ = './_base_/mask-rcnn_fpn_1x_coco.py'
model = dict(
    backbone=dict(
        arch='regnetx_12gf',
        init_cfg=dict(checkpoint='open-mmlab://regnetx_12gf')),
    neck=dict(in_channels=[224, 448, 896, 2240]))
