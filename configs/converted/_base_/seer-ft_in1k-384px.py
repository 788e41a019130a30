# The SEER trunks fine-tuned on ImageNet-1k (vissl's and transformers'
# copies of vissl's files), tested at 384 px as their published top-1 was
# (vissl's projects/SEER/README.md) and as timm's regnety_*.seer_ft_in1k
# pretrained configs evaluate them: RGB, ImageNet's mean and std, short
# side 384 (bicubic), centre crop 384.
_base_ = './rgb_in1k.py'

test_pipeline = [
    _base_.load_image,
    dict(_base_.resize, scale=384, interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=384),
    _base_.pack_inputs,
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
