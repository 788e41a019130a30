_base_ = './_base_/mask-rcnn_fpn_1x_coco.py'
model = dict(
    backbone=dict(
        arch='regnetx_6.4gf',
        init_cfg=dict(checkpoint='open-mmlab://regnetx_6.4gf')),
    neck=dict(in_channels=[168, 392, 784, 1624]))
