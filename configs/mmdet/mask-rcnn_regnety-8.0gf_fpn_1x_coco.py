_base_ = './_base_/mask-rcnn_fpn_1x_coco.py'
model = dict(
    backbone=dict(
        arch='regnety_8.0gf',
        init_cfg=dict(
            checkpoint='mmregnet://regnety-8.0gf_3rdparty-pycls_in1k',
            prefix='backbone.')),
    neck=dict(in_channels=[168, 448, 896, 2016]))
