_base_ = './_base_/torchvision-v1_in1k.py'

model = dict(
    backbone=dict(arch='regnety_16gf'),
    head=dict(in_channels=3024))
