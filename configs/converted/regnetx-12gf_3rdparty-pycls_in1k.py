_base_ = '../regnetx-12gf_8xb64_in1k.py'
