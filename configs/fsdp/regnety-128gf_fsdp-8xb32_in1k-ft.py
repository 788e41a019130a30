# Fine-tuning RegNetY-128GF (644.8 M parameters) on ImageNet-1k, sharded with
# FSDP (mmregnet.RegNetFSDPStrategy: one unit per RegNet block and the head,
# consolidated checkpoints) and activation checkpointing per block:
#   bash tools/dist_train.sh CONFIG 8 --cfg-options load_from=CHECKPOINT
# (the config trains sharded without --fsdp; --amp adds bf16 mixed
# precision). Start from converted weights (SEER, SWAG: docs/
# weight_conversion.md); the schedule is a starting point, not a
# reproduced result: 10 epochs, 1 of warm-up, lr 0.02 for 256 images.
#
# tools/analysis_tools/plan_memory.py CONFIG --gpus 8 --gpu-mem 80G:
#   strategy  devices  weights  grads  optim  gathered  acts  total  fits
#        DDP        8      2.6    2.6    2.6       2.6   7.2   17.6   yes
#       FSDP        8      0.3    0.3    0.3       1.1   7.2    9.4   yes
#   DDP: fits (the same on any number of devices)
#   FSDP: fits on 1 or more devices
_base_ = [
    '../_base_/models/regnet.py',
    '../_base_/datasets/imagenet_bs64_pycls.py',
    '../_base_/schedules/imagenet_bs1024_pycls.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(arch='regnety_128gf', with_cp=True),
    head=dict(in_channels=7392))
train_dataloader = dict(batch_size=32)

runner_type = 'FlexibleRunner'
strategy = dict(type='mmregnet.RegNetFSDPStrategy')
# FSDP's parameters are views into flat shards: train in NCHW
default_hooks = dict(channels_last=dict(enabled=False))
custom_hooks = []  # no Precise BN (untested under FSDP)

optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1),
    dict(type='CosineAnnealingLR', T_max=9, by_epoch=True, begin=1, end=10)
]
train_cfg = dict(max_epochs=10)
auto_scale_lr = dict(base_batch_size=256)
