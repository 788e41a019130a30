# The SEER trunks fine-tuned on ImageNet-1k (vissl's and transformers'
# copies of vissl's files), tested at 384 px as their published top-1 was
# (vissl's projects/SEER/README.md) and as timm's regnety_*.seer_ft_in1k
# pretrained configs evaluate them: RGB, ImageNet's mean and std, short
# side 384 (bicubic), centre crop 384 -- torchvision's SWAG evaluation,
# whose base this is, with pycls's widths.
_base_ = './torchvision-swag-e2e_in1k-384px.py'

model = dict(backbone=dict(width_rounding='pycls'))
