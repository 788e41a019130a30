# Faster R-CNN + a small RegNetX from scratch on the drawn shapes, on CPU:
#   python tools/dataset_converters/make_shapes_coco.py data/shapes
#   python tools/train.py \
#       configs/mmdet/quickstart/faster-rcnn_regnetx-tiny_fpn_1xb8_shapes.py
_base_ = ['../_base_/faster-rcnn_fpn_1x_coco.py', './_base_/shapes.py']
model = dict(
    backbone={{_base_.tiny_regnetx_backbone}},
    neck={{_base_.tiny_fpn}},
    rpn_head={{_base_.tiny_rpn_head}},
    roi_head={{_base_.tiny_roi_head}},
    train_cfg={{_base_.two_stage_train_cfg}},
    test_cfg={{_base_.two_stage_test_cfg}})
train_dataloader = {{_base_.shapes_train_dataloader}}
val_dataloader = test_dataloader = {{_base_.shapes_val_dataloader}}
val_evaluator = test_evaluator = {{_base_.shapes_box_evaluator}}
train_cfg = {{_base_.shapes_train_cfg}}
param_scheduler = {{_base_.shapes_param_scheduler}}
default_hooks = dict(logger=dict(interval=10))
