_base_ = './_base_/torchvision-v1_in1k.py'

model = dict(
    backbone=dict(arch='regnetx_32gf'),
    head=dict(in_channels=2520))
