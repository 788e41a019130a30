_base_ = [
    './_base_/models/regnet.py',
    './_base_/datasets/imagenet_bs128_pycls.py',
    './_base_/schedules/imagenet_bs1024_pycls.py',
    './_base_/default_runtime.py',
]
