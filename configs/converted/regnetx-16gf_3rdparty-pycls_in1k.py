_base_ = '../regnetx-16gf_8xb64_in1k.py'
