# Weights converted from torchvision and timm: RGB input normalised with
# ImageNet's mean and std. mmcv loads images as BGR, so the data preprocessor
# converts them (to_rgb). Test images are decoded and resized with Pillow, as
# torchvision and timm evaluate; the configs that inherit this one set the
# publisher's resize and crop. Training (fine-tuning) keeps the pycls recipe.
_base_ = [
    '../../_base_/models/regnet.py',
    '../../_base_/datasets/imagenet_bs64_pycls.py',
    '../../_base_/schedules/imagenet_bs512_pycls.py',
    '../../_base_/default_runtime.py',
]

data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)

load_image = dict(type='LoadImageFromFile', imdecode_backend='pillow')
resize = dict(type='ResizeEdge', edge='short', backend='pillow')
pack_inputs = dict(type='PackInputs')
