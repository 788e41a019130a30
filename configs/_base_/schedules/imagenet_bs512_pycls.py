_base_ = './imagenet_bs1024_pycls.py'

# 8 GPUs x 64 images: lr 0.4
optim_wrapper = dict(optimizer=dict(lr=0.4))
auto_scale_lr = dict(base_batch_size=512)
