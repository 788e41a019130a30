_base_ = './_base_/mask-rcnn_fpn_ms-poly-3x_coco.py'
model = dict(
    data_preprocessor={{_base_.pycls_preprocessor}},
    backbone=dict(
        arch='regnety_800mf',
        init_cfg=dict(
            checkpoint='mmregnet://regnety-800mf_3rdparty-pycls_in1k',
            prefix='backbone.')),
    neck=dict(in_channels=[64, 128, 320, 768]))
