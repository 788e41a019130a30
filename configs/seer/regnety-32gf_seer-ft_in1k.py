# Fine-tuning the SEER RegNetY-32GF trunk on ImageNet-1k, every layer
# trained. vissl's recipe: configs/config/benchmark/fulltune/imagenet1k/
# eval_resnet_8gpu_transfer_in1k_fulltune.yaml: SGD, Nesterov momentum 0.9,
# no weight decay, lr 0.1 per 256 images, x0.1 at epochs 30, 60, 90 and
# 100, 105 epochs. (The SEER papers' ImageNet fine-tuned weights are
# evaluated at 384 px; vissl's projects/SEER/README.md lists them.)
_base_ = './_base_/seer_in1k.py'

optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.0))
param_scheduler = dict(
    _delete_=True,
    type='MultiStepLR',
    by_epoch=True,
    milestones=[30, 60, 90, 100],
    gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=105, val_interval=1)
