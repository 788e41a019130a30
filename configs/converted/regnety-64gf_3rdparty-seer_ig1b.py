_base_ = './_base_/seer_in1k.py'

model = dict(
    backbone=dict(arch='regnety_64gf'), head=dict(in_channels=4920))
