# Faster R-CNN + a small RegNetX from scratch on the drawn shapes, on CPU:
#   python tools/dataset_converters/make_shapes_coco.py data/shapes
#   python tools/train.py \
#       configs/mmdet/quickstart/faster-rcnn_regnetx-tiny_fpn_1xb8_shapes.py
_base_ = ['../_base_/faster-rcnn_fpn_1x_coco.py', './_base_/shapes.py']
model = dict(
    backbone={{_base_.tiny_regnetx_backbone}},
    neck=dict(in_channels={{_base_.tiny_fpn_in_channels}},
              out_channels={{_base_.neck_channels}}),
    rpn_head=dict(in_channels={{_base_.neck_channels}},
                  feat_channels={{_base_.neck_channels}}),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels={{_base_.neck_channels}}),
        bbox_head=dict(in_channels={{_base_.neck_channels}},
                       fc_out_channels=256,
                       num_classes={{_base_.num_classes}})),
    train_cfg=dict(rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=200)))
train_dataloader = {{_base_.shapes_train_dataloader}}
val_dataloader = test_dataloader = {{_base_.shapes_val_dataloader}}
val_evaluator = test_evaluator = {{_base_.shapes_evaluator}}
train_cfg = {{_base_.shapes_train_cfg}}
param_scheduler = {{_base_.shapes_param_scheduler}}
default_hooks = dict(logger=dict(interval=10))
