_base_ = './_base_/torchvision-swag-e2e_in1k-384px.py'

model = dict(
    backbone=dict(arch='regnety_16gf'),
    head=dict(in_channels=3024))
