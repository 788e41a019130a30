# torchvision's IMAGENET1K_V2 evaluation: short side 232 (bilinear),
# centre crop
# 224. torchvision rounds the widths of X-400MF, Y-800MF and Y-8GF up.
_base_ = './rgb_in1k.py'

model = dict(backbone=dict(width_rounding='torchvision'))

test_pipeline = [
    _base_.load_image,
    dict(_base_.resize, scale=232, interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=224),
    _base_.pack_inputs,
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
