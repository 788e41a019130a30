_base_ = './_base_/mask-rcnn_fpn_1x_coco.py'
model = dict(
    backbone=dict(
        arch='regnety_12gf',
        init_cfg=dict(
            checkpoint='mmregnet://regnety-12gf_3rdparty-pycls_in1k',
            prefix='backbone.')),
    neck=dict(in_channels=[224, 448, 896, 2240]))
