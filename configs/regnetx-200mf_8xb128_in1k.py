_base_ = './regnetx-400mf_8xb128_in1k.py'

model = dict(
    backbone=dict(arch='regnetx_200mf'), head=dict(in_channels=368))
