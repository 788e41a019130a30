_base_ = './_base_/mask-rcnn_fpn_1x_coco.py'
model = dict(
    backbone=dict(
        arch='regnety_6.4gf',
        init_cfg=dict(
            checkpoint='mmregnet://regnety-6.4gf_3rdparty-pycls_in1k',
            prefix='backbone.')),
    neck=dict(in_channels=[144, 288, 576, 1296]))
