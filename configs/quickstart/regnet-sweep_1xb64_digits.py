# Base config of the design-space sweep on the digits (docs/design_space.md):
# the quick start shortened to 5 epochs (1 of warm-up, 4 of cosine decay) and
# validated once, at the end. tools/design/sample_sweep.py replaces the arch:
#   python tools/design/sample_sweep.py \
#       configs/quickstart/regnet-sweep_1xb64_digits.py --num 10 \
#       --flops 0.4M 1.2M --out-dir sweeps/digits
_base_ = ['./regnet-tiny_1xb64_digits.py']

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1),
    dict(type='CosineAnnealingLR', T_max=4, by_epoch=True, begin=1, end=5)
]
train_cfg = dict(max_epochs=5, val_interval=5)
default_hooks = dict(checkpoint=dict(interval=5))
