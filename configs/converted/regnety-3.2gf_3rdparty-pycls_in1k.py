_base_ = '../regnety-3.2gf_8xb64_in1k.py'
