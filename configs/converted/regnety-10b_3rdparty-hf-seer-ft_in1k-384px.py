_base_ = './_base_/seer-ft_in1k-384px.py'

model = dict(
    backbone=dict(arch='regnety_10b'), head=dict(in_channels=28280))
