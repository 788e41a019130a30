_base_ = [
    './_base_/models/regnet.py',
    './_base_/datasets/imagenet_bs64_pycls.py',
    './_base_/schedules/imagenet_bs512_pycls.py',
    './_base_/default_runtime.py',
]

model = dict(
    backbone=dict(arch='regnetx_3.2gf'), head=dict(in_channels=1008))
