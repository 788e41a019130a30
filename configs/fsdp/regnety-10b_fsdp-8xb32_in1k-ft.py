# Fine-tuning RegNetY-10B (9,352.2 M parameters) on ImageNet-1k with the
# settings of regnety-128gf_fsdp-8xb32_in1k-ft.py (FSDP, activation
# checkpointing, 10 epochs):
#   bash tools/dist_train.sh CONFIG 8 --cfg-options load_from=CHECKPOINT
#
# tools/analysis_tools/plan_memory.py CONFIG --gpus 8 --gpu-mem 80G:
#   strategy  devices  weights  grads  optim  gathered  acts  total  fits
#        DDP        8     37.4   37.4   37.4      37.4  27.3  177.0    no
#       FSDP        8      4.7    4.7    4.7      16.5  27.3   57.9   yes
#   DDP: does not fit (every device holds everything)
#   FSDP: fits on 4 or more devices
_base_ = './regnety-128gf_fsdp-8xb32_in1k-ft.py'

model = dict(
    backbone=dict(arch='regnety_10b'), head=dict(in_channels=28280))
