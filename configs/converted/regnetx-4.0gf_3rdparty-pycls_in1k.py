_base_ = '../regnetx-4.0gf_8xb64_in1k.py'
