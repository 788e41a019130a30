# ImageNet-1k with the pycls recipe: BGR input (pycls weights expect it),
# pycls mean/std, random resized crop, flip and PCA lighting noise.
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
data_preprocessor = dict(
    num_classes=1000,
    mean=[103.53, 116.28, 123.675],  # BGR
    std=[57.375, 57.12, 58.395],
    to_rgb=False,
)

# Lighting: eigen-values/-vectors of ImageNet RGB covariance, in BGR order.
lighting = dict(
    type='Lighting',
    eigval=[0.2175, 0.0188, 0.0045],
    eigvec=[
        [-0.5836, -0.6948, 0.4203],
        [-0.5808, -0.0045, -0.814],
        [-0.5675, 0.7192, 0.4009],
    ],
    alphastd=25.5,  # 0.1 on [0, 1] images, on [0, 255]
    to_rgb=False)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    lighting,
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

# Data-loader workers per GPU: one worker runs this train pipeline at about
# 470 images/s (an AVX-512 AMD EPYC core, ImageNet-sized JPEGs); the 8xb64
# configs (3.2GF and up) train at 60-500 images/s per V100 / RTX 3090, so 4
# workers keep data time near zero with headroom for an A100 or slower host
# cores (tools/analysis_tools/benchmark_data.py, docs/performance.md).
# Persistent workers are not restarted every epoch.
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
