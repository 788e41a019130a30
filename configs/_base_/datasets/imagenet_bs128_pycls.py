_base_ = './imagenet_bs64_pycls.py'

# The 8xb128 configs (200MF-1.6GF) train at 500-2100 images/s per V100 /
# RTX 3090 (X/Y-200MF with AMP: 4100): 8 workers per GPU at about 470
# images/s each (12 for 200MF with AMP; see the bs64 base).
train_dataloader = dict(batch_size=128, num_workers=8)
val_dataloader = dict(batch_size=128, num_workers=8)
test_dataloader = dict(batch_size=128, num_workers=8)
