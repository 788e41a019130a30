_base_ = '../regnetx-1.6gf_8xb128_in1k.py'
