_base_ = './_base_/torchvision-swag-linear_in1k.py'

# torchvision's regnet_y_128gf, not one of pycls's 24 archs
# (mmregnet.design.EXTRA_ARCH_SETTINGS)
model = dict(
    backbone=dict(arch='regnety_128gf'),
    head=dict(in_channels=7392))
