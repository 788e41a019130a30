_base_ = '../regnety-400mf_8xb128_in1k.py'
