_base_ = './_base_/mask-rcnn_fpn_1x_coco.py'
model = dict(
    backbone=dict(
        arch='regnety_4.0gf',
        init_cfg=dict(
            checkpoint='mmregnet://regnety-4.0gf_3rdparty-pycls_in1k',
            prefix='backbone.')),
    neck=dict(in_channels=[128, 192, 512, 1088]))
