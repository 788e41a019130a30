# ImageNet-1k from a SEER trunk (Goyal et al., "Self-supervised Pretraining
# of Visual Features in the Wild", arXiv 2103.01988; "Vision Models Are More
# Robust And Fair When Pretrained On Uncurated Images Without Supervision",
# arXiv 2202.08360), as vissl evaluates it: RGB input normalised with
# ImageNet's mean and std, RandomResizedCrop 224 and flip for training,
# short side 256 and a 224 centre crop for testing (the trunks' entries'
# base, configs/converted/_base_/seer_in1k.py), 8 GPUs x 32 images
# (vissl configs/config/benchmark/{linear_image_classification,fulltune}/
# imagenet1k/eval_resnet_8gpu_transfer_in1k_*.yaml). No precise BN: vissl
# has none.
#
# The trunk: vissl's self-supervised RegNetY-32GF (the SEER table of
# vissl's projects/SEER/README.md), model-index entry
# regnety-32gf_3rdparty-seer_ig1b: downloaded, verified and converted into
# a backbone-only checkpoint on first use (mmregnet/weights.py). By hand:
#   python tools/model_converters/vissl2mmregnet.py \
#       seer_regnet32gf_model_iteration244000.torch trunk.pth
# and seer_trunk = 'trunk.pth'.
_base_ = '../../converted/_base_/seer_in1k.py'

seer_trunk = 'mmregnet://regnety-32gf_3rdparty-seer_ig1b'
model = dict(
    backbone=dict(
        arch='regnety_32gf',
        init_cfg=dict(
            type='Pretrained', prefix='backbone.', checkpoint=seer_trunk)),
    head=dict(in_channels=3712))

train_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=32)
test_dataloader = val_dataloader
custom_hooks = []
auto_scale_lr = dict(base_batch_size=256)
