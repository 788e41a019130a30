# timm's evaluation of its pycls_in1k weights (pretrained_cfg crop_pct 0.875):
# short side floor(224 / 0.875) = 256 (bicubic), centre crop 224.
_base_ = './rgb_in1k.py'

test_pipeline = [
    _base_.load_image,
    dict(_base_.resize, scale=256, interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    _base_.pack_inputs,
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
