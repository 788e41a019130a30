_base_ = './regnetx-3.2gf_8xb64_in1k.py'

model = dict(
    backbone=dict(arch='regnety_3.2gf'), head=dict(in_channels=1512))
