_base_ = '../regnety-4.0gf_8xb64_in1k.py'
