# RetinaNet + a small RegNetY (squeeze-excitation) from scratch on the drawn
# shapes, on CPU:
#   python tools/dataset_converters/make_shapes_coco.py data/shapes
#   python tools/train.py \
#       configs/mmdet/quickstart/retinanet_regnety-tiny_fpn_1xb8_shapes.py
_base_ = ['../_base_/retinanet_fpn_1x_coco.py', './_base_/shapes.py']
model = dict(
    backbone={{_base_.tiny_regnety_backbone}},
    neck={{_base_.tiny_fpn}},
    bbox_head=dict(in_channels={{_base_.neck_channels}},
                   feat_channels={{_base_.neck_channels}},
                   stacked_convs=2,
                   num_classes={{_base_.num_classes}}))
train_dataloader = {{_base_.shapes_train_dataloader}}
val_dataloader = test_dataloader = {{_base_.shapes_val_dataloader}}
val_evaluator = test_evaluator = {{_base_.shapes_evaluator}}
# RetinaNet's focal loss learns more slowly than Faster R-CNN's sampled
# heads: twice the epochs, at mmdet's lr (0.02 for 16 images) scaled to 8.
optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg = dict(max_epochs=12, val_interval=12)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=60),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=12, milestones=[11],
         gamma=0.1),
]
default_hooks = dict(logger=dict(interval=10))
