_base_ = './_base_/mask-rcnn_fpn_ms-poly-3x_coco.py'
model = dict(
    data_preprocessor={{_base_.pycls_preprocessor}},
    backbone=dict(
        arch='regnety_1.6gf',
        init_cfg=dict(
            checkpoint='mmregnet://regnety-1.6gf_3rdparty-pycls_in1k',
            prefix='backbone.')),
    neck=dict(in_channels=[48, 120, 336, 888]))
