_base_ = './_base_/timm_in1k.py'

model = dict(
    backbone=dict(arch='regnety_8.0gf'),
    head=dict(in_channels=2016))
