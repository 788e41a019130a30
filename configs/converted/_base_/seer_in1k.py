# The SEER trunks (vissl's and transformers' copies, headless): an ImageNet
# classifier whose backbone the trunk fills and whose head stays fresh,
# tested as vissl evaluates its trunks on ImageNet-1k (configs/config/
# benchmark/linear_image_classification/imagenet1k/eval_resnet_8gpu_
# transfer_in1k_linear.yaml): RGB, ImageNet's mean and std, short side 256
# (bilinear), centre crop 224. No accuracy belongs to a trunk.
_base_ = './rgb_in1k.py'

test_pipeline = [
    _base_.load_image,
    dict(_base_.resize, scale=256),
    dict(type='CenterCrop', crop_size=224),
    _base_.pack_inputs,
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
