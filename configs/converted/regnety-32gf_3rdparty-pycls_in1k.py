_base_ = '../regnety-32gf_8xb64_in1k.py'
