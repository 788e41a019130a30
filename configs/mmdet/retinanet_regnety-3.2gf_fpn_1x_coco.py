_base_ = './_base_/retinanet_fpn_1x_coco.py'
model = dict(
    backbone=dict(
        arch='regnety_3.2gf',
        init_cfg=dict(
            checkpoint='mmregnet://regnety-3.2gf_3rdparty-pycls_in1k',
            prefix='backbone.')),
    neck=dict(in_channels=[72, 216, 576, 1512]))
