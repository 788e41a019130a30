# The paper's schedule: SGD with nesterov momentum, lr 0.1 per 128 images
# (0.8 at 8 GPUs x 128), weight decay 5e-5, 5 epochs of linear warm-up, then
# cosine decay to 100 epochs. auto_scale_lr rescales for other batch sizes.
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.8, momentum=0.9, nesterov=True, weight_decay=5e-5))

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=5),
    dict(type='CosineAnnealingLR', T_max=95, by_epoch=True, begin=5, end=100)
]

train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=1024)
