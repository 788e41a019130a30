_base_ = './_base_/timm-pycls_in1k.py'

model = dict(
    backbone=dict(arch='regnety_12gf'),
    head=dict(in_channels=2240))
