_base_ = './_base_/timm_in1k.py'

model = dict(
    backbone=dict(arch='regnety_6.4gf'),
    head=dict(in_channels=1296))
