# Fine-tuning RegNetY-256GF (1,282.6 M parameters) on ImageNet-1k with the
# settings of regnety-128gf_fsdp-8xb32_in1k-ft.py (FSDP, activation
# checkpointing, 10 epochs):
#   bash tools/dist_train.sh CONFIG 8 --cfg-options load_from=CHECKPOINT
#
# tools/analysis_tools/plan_memory.py CONFIG --gpus 8 --gpu-mem 80G:
#   strategy  devices  weights  grads  optim  gathered  acts  total  fits
#        DDP        8      5.1    5.1    5.1       5.1  10.2   30.7   yes
#       FSDP        8      0.6    0.6    0.6       2.3  10.2   14.4   yes
#   DDP: fits (the same on any number of devices)
#   FSDP: fits on 1 or more devices
_base_ = './regnety-128gf_fsdp-8xb32_in1k-ft.py'

model = dict(
    backbone=dict(arch='regnety_256gf'), head=dict(in_channels=10444))
