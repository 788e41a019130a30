_base_ = '../regnetx-32gf_8xb64_in1k.py'
