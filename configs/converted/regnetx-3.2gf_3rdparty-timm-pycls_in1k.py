_base_ = './_base_/timm-pycls_in1k.py'

model = dict(
    backbone=dict(arch='regnetx_3.2gf'),
    head=dict(in_channels=1008))
