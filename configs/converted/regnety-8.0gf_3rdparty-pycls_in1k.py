_base_ = '../regnety-8.0gf_8xb64_in1k.py'
