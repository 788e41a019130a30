_base_ = './_base_/seer-ft_in1k-384px.py'

model = dict(
    backbone=dict(arch='regnety_64gf'), head=dict(in_channels=4920))
