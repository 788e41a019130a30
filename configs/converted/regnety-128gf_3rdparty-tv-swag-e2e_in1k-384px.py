_base_ = './_base_/torchvision-swag-e2e_in1k-384px.py'

# torchvision's regnet_y_128gf, not one of pycls's 24 archs
# (mmregnet.design.EXTRA_ARCH_SETTINGS)
model = dict(
    backbone=dict(arch='regnety_128gf'),
    head=dict(in_channels=7392))
