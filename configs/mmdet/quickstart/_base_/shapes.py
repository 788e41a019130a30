# The drawn-shapes COCO dataset (tools/dataset_converters/make_shapes_coco.py)
# and a CPU-sized detector neck/head width, shared by the quick-start configs.
shapes_root = 'data/shapes/'
shapes_metainfo = dict(classes=('square', 'disc', 'triangle'))
num_classes = 3
neck_channels = 64

_load_image = dict(type='LoadImageFromFile')
_load_annotations = dict(
    type='LoadAnnotations', with_bbox=True, with_mask=True)
_resize = dict(type='Resize', scale=(160, 160), keep_ratio=True)
_loader = dict(batch_size=8, num_workers=0, persistent_workers=False)
_dataset = dict(data_root=shapes_root, metainfo=shapes_metainfo)
shapes_train_dataloader = dict(
    _loader,
    dataset=dict(
        _dataset,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        pipeline=[
            _load_image, _load_annotations, _resize,
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackDetInputs'),
        ]))
shapes_val_dataloader = dict(
    _loader,
    dataset=dict(
        _dataset,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        # ground truth loaded after the resize stays in the original image's
        # coordinates, like the predictions (mmdet's test pipelines do so)
        pipeline=[
            _load_image, _resize, _load_annotations,
            dict(
                type='PackDetInputs',
                meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                           'scale_factor')),
        ]))
# COCO mAP, and the fraction of images whose most confident box is right
# (class and IoU >= 0.5: mmregnet's TopBoxAccuracy)
_coco_metric = dict(
    type='CocoMetric', ann_file=shapes_root + 'annotations/instances_val.json')
_top_box = dict(type='mmregnet.TopBoxAccuracy')
shapes_box_evaluator = [dict(_coco_metric, metric='bbox'), _top_box]
shapes_mask_evaluator = [dict(_coco_metric, metric=['bbox', 'segm']), _top_box]

# a fixed seed, so a run is repeatable on one CPU; the tests' floors hold for
# every seed and CPU measured (docs/detection.md)
randomness = dict(seed=0)
shapes_train_cfg = dict(max_epochs=6, val_interval=6)
shapes_param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=60),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=6, milestones=[5],
         gamma=0.1),
]

# Small RegNets (u_j = 24 + 24 j quantised to 24 * 2^s, group width 24):
# stage widths 24, 48, 96, 192; 0.57 M parameters and 49 M multiply-adds at
# 160 x 160 for X (_delete_: replaces the base's arch name). Trained from
# scratch: nothing frozen, BN statistics updated, default initialisation.
# (Grouped convolutions are slow to train on CPU, hence few groups.)
tiny_regnetx = dict(_delete_=True, w0=24, wa=24.0, wm=2.0, depth=7, group_w=24)
tiny_regnetx_backbone = dict(
    arch=tiny_regnetx, frozen_stages=-1, norm_eval=False, init_cfg=None)
tiny_regnety_backbone = dict(
    tiny_regnetx_backbone, arch=dict(tiny_regnetx, se_ratio=0.25))

# CPU-sized FPN and heads (64 channels) for the small RegNets
tiny_fpn = dict(in_channels=[24, 48, 96, 192], out_channels=neck_channels)
tiny_rpn_head = dict(in_channels=neck_channels, feat_channels=neck_channels)
# RoIAlign with 2 x 2 samples per bin (mmdet's adaptive count takes up to
# 4 x 4 on these large objects), computed as matrix products by mmregnet's
# extractor: the scatter loops of mmcv's and torchvision's CPU backward took
# most of a training step (docs/detection.md)
_roi_extractor = dict(type='mmregnet.SeparableRoIExtractor')
_roi_align = dict(type='RoIAlign', sampling_ratio=2)
tiny_roi_head = dict(
    bbox_roi_extractor=dict(
        _roi_extractor,
        roi_layer=dict(_roi_align, output_size=7),
        out_channels=neck_channels),
    bbox_head=dict(
        in_channels=neck_channels, fc_out_channels=256,
        num_classes=num_classes))
tiny_mask_roi_head = dict(
    tiny_roi_head,
    mask_roi_extractor=dict(
        _roi_extractor,
        roi_layer=dict(_roi_align, output_size=14),
        out_channels=neck_channels),
    mask_head=dict(
        in_channels=neck_channels, conv_out_channels=neck_channels,
        num_classes=num_classes))
# at most 4 objects an image: 500 boxes a level before the RPN's NMS and
# 200 proposals after it, in training as in testing (mmdet's 2000 / 1000
# are sized for COCO, and its CPU NMS is quadratic in the box count), and
# 64 RoIs an image for the second stage (a quarter positive: mmdet's 512 is
# sized for COCO's crowds; the mask head's cost grows with the positives)
_proposals = dict(nms_pre=500, max_per_img=200)
two_stage_train_cfg = dict(
    rpn_proposal=_proposals, rcnn=dict(sampler=dict(num=64)))
two_stage_test_cfg = dict(rpn=_proposals)
