_base_ = './regnetx-400mf_8xb128_in1k.py'

model = dict(
    backbone=dict(arch='regnety_200mf'), head=dict(in_channels=368))
