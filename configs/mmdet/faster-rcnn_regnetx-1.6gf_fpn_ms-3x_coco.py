_base_ = './_base_/faster-rcnn_fpn_ms-3x_coco.py'
model = dict(
    backbone=dict(
        arch='regnetx_1.6gf',
        init_cfg=dict(checkpoint='open-mmlab://regnetx_1.6gf')),
    neck=dict(in_channels=[72, 168, 408, 912]))
