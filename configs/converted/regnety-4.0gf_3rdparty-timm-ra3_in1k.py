_base_ = './_base_/timm_in1k.py'

model = dict(
    backbone=dict(arch='regnety_4.0gf'),
    head=dict(in_channels=1088))
