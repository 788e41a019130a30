_base_ = '../regnetx-800mf_8xb128_in1k.py'
