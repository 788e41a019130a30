_base_ = '../regnetx-200mf_8xb128_in1k.py'
