_base_ = '../regnety-800mf_8xb128_in1k.py'
