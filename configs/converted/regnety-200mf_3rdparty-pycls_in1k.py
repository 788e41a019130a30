_base_ = '../regnety-200mf_8xb128_in1k.py'
