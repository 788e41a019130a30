_base_ = './_base_/torchvision-v1_in1k.py'

model = dict(
    backbone=dict(arch='regnety_400mf'),
    head=dict(in_channels=440))
