_base_ = './_base_/seer_in1k.py'

model = dict(
    backbone=dict(arch='regnety_10b'), head=dict(in_channels=28280))
