# Quick start: a tiny RegNetY from an explicit design, trained on
# scikit-learn's handwritten digits
# (tools/dataset_converters/prepare_digits.py) on 2 CPU cores in about a
# minute.
_base_ = [
    '../_base_/models/regnet.py',
    '../_base_/schedules/imagenet_bs1024_pycls.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        # u_j = 16 + 16 j -> widths 16, 32, 64, 64, 64, 128: 4 stages
        arch=dict(  # replaces the base's arch name
            _delete_=True, w0=16, wa=16.0, wm=2.0, depth=6, group_w=8,
            se_ratio=0.25),
        stem_channels=16),
    head=dict(num_classes=10, in_channels=128, topk=(1, )))

data_root = 'data/digits'
data_preprocessor = dict(
    num_classes=10, mean=[78.0] * 3, std=[96.0] * 3, to_rgb=False)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.7, 1.0)),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=2,
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        data_prefix='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# the paper's recipe (SGD + nesterov, warm-up, cosine), shortened to 20
# epochs at 64 images per batch
optim_wrapper = dict(optimizer=dict(lr=0.2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2),
    dict(type='CosineAnnealingLR', T_max=18, by_epoch=True, begin=2, end=20)
]
train_cfg = dict(max_epochs=20, val_interval=5)
auto_scale_lr = dict(base_batch_size=64)

default_hooks = dict(logger=dict(interval=10))
custom_hooks = []  # no Precise BN on 1,437 images
randomness = dict(seed=0)
