_base_ = './_base_/timm-pycls_in1k.py'

model = dict(
    backbone=dict(arch='regnety_32gf'),
    head=dict(in_channels=3712))
