# RetinaNet + a small RegNetY (squeeze-excitation) from scratch on the drawn
# shapes, on CPU:
#   python tools/dataset_converters/make_shapes_coco.py data/shapes
#   python tools/train.py \
#       configs/mmdet/quickstart/retinanet_regnety-tiny_fpn_1xb8_shapes.py
_base_ = ['../_base_/retinanet_fpn_1x_coco.py', './_base_/shapes.py']
# From scratch, RetinaNet's dense head needs normalisation to learn in a few
# hundred steps: with GroupNorm in its towers it reaches about 0.6 bbox mAP
# here, without it 0.10-0.16 (docs/detection.md)
model = dict(
    backbone={{_base_.tiny_regnety_backbone}},
    neck={{_base_.tiny_fpn}},
    bbox_head=dict(in_channels={{_base_.neck_channels}},
                   feat_channels={{_base_.neck_channels}},
                   stacked_convs=2,
                   norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
                   num_classes={{_base_.num_classes}}))
train_dataloader = {{_base_.shapes_train_dataloader}}
val_dataloader = test_dataloader = {{_base_.shapes_val_dataloader}}
val_evaluator = test_evaluator = {{_base_.shapes_box_evaluator}}
# the family's lr, 0.02, for 8 images (twice mmdet's per-image rate; 0.01
# gave 0.55-0.59 bbox mAP, 0.02 0.60-0.62); the focal loss needs twice the
# epochs of the two-stage quick starts (6 epochs: 0.28-0.36)
train_cfg = dict(max_epochs=12, val_interval=12)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=60),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=12, milestones=[11],
         gamma=0.1),
]
default_hooks = dict(logger=dict(interval=10))
