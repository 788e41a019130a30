# Linear probe of the SEER RegNetY-32GF trunk on ImageNet-1k: the trunk
# frozen (weights and BN statistics), a linear head on its average-pooled
# last stage. vissl's recipe: configs/config/benchmark/
# linear_image_classification/imagenet1k/eval_resnet_8gpu_transfer_in1k_
# linear.yaml, with the "mlp" head on avgpool of its models/regnet*Gf.yaml:
# SGD, Nesterov momentum 0.9, weight decay 5e-4 (none on BN), lr 0.01 per
# 256 images, x0.1 at epochs 8, 16 and 24, 28 epochs.
_base_ = './_base_/seer_in1k.py'

model = dict(backbone=dict(frozen_stages=4, norm_eval=True))
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(
        type='SGD', lr=0.01, momentum=0.9, nesterov=True,
        weight_decay=5e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0))
param_scheduler = dict(
    _delete_=True,
    type='MultiStepLR',
    by_epoch=True,
    milestones=[8, 16, 24],
    gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=28, val_interval=1)
