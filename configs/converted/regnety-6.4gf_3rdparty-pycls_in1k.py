_base_ = '../regnety-6.4gf_8xb64_in1k.py'
