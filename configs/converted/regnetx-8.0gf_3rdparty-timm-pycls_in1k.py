_base_ = './_base_/timm-pycls_in1k.py'

model = dict(
    backbone=dict(arch='regnetx_8.0gf'),
    head=dict(in_channels=1920))
