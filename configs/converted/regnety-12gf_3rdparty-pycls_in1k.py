_base_ = '../regnety-12gf_8xb64_in1k.py'
