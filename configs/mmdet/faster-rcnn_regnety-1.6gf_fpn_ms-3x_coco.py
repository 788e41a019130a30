_base_ = './_base_/faster-rcnn_fpn_ms-3x_coco.py'
model = dict(
    backbone=dict(
        arch='regnety_1.6gf',
        init_cfg=dict(
            checkpoint='mmregnet://regnety-1.6gf_3rdparty-pycls_in1k',
            prefix='backbone.')),
    neck=dict(in_channels=[48, 120, 336, 888]))
