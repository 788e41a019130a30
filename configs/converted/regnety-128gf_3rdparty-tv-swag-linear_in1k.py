_base_ = './_base_/torchvision-swag-linear_in1k.py'

# torchvision's regnet_y_128gf, not one of pycls's 24 archs
model = dict(
    backbone=dict(arch=dict(_delete_=True, w0=456, wa=160.83, wm=2.52,
                            depth=27, group_w=264, se_ratio=0.25)),
    head=dict(in_channels=7392))
