_base_ = '../regnetx-600mf_8xb128_in1k.py'
