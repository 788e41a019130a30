_base_ = '../regnety-600mf_8xb128_in1k.py'
