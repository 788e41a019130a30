# Faster R-CNN with FPN on the SEER RegNetY-32GF trunk (mmdet's RegNet
# recipe, configs/mmdet/_base_/faster-rcnn_fpn_1x_coco.py). The trunk is
# vissl's self-supervised RegNetY-32GF, as in configs/seer/_base_/
# seer_in1k.py (model-index entry regnety-32gf_3rdparty-seer_ig1b, a
# backbone-only checkpoint made on first use); SEER weights take RGB input
# normalised with ImageNet's mean and std (the SEER papers, arXiv
# 2103.01988 and 2202.08360, transfer their trunks to detection this way).
_base_ = '../../mmdet/_base_/faster-rcnn_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='regnety_32gf',
        init_cfg=dict(
            checkpoint='mmregnet://regnety-32gf_3rdparty-seer_ig1b',
            prefix='backbone.')),
    neck=dict(in_channels=[232, 696, 1392, 3712]),
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True))
