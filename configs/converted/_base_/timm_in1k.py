# timm's evaluation at 224 of its own weights (pretrained_cfg crop_pct 0.95):
# short side floor(224 / 0.95) = 235 (bicubic), centre crop 224.
_base_ = './rgb_in1k.py'

test_pipeline = [
    _base_.load_image,
    dict(_base_.resize, scale=235, interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    _base_.pack_inputs,
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
