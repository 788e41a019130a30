# torchvision's IMAGENET1K_SWAG_E2E_V1 evaluation: short side 384 (bicubic),
# centre crop 384.
_base_ = './rgb_in1k.py'

model = dict(backbone=dict(width_rounding='torchvision'))

test_pipeline = [
    _base_.load_image,
    dict(_base_.resize, scale=384, interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=384),
    _base_.pack_inputs,
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
