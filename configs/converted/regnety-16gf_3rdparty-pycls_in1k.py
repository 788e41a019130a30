_base_ = '../regnety-16gf_8xb64_in1k.py'
