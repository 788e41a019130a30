_base_ = '../regnetx-400mf_8xb128_in1k.py'
