_base_ = './_base_/faster-rcnn_fpn_ms-3x_coco.py'
model = dict(
    backbone=dict(
        arch='regnetx_3.2gf',
        init_cfg=dict(checkpoint='open-mmlab://regnetx_3.2gf')),
    neck=dict(in_channels=[96, 192, 432, 1008]))
