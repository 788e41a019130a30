_base_ = './_base_/torchvision-v2_in1k.py'

model = dict(
    backbone=dict(arch='regnety_1.6gf'),
    head=dict(in_channels=888))
