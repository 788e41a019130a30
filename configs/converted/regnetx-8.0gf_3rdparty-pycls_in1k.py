_base_ = '../regnetx-8.0gf_8xb64_in1k.py'
