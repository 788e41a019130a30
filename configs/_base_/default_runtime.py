# The runtime of every classification config: mmpretrain's registries, the
# hooks of one epoch, where and how checkpoints are written. The settings are
# mmpretrain's default runtime (written out here: inheriting it with
# 'mmpretrain::' made every config read scan mmpretrain's 85 metafiles) plus
# mmregnet's checkpoint and memory-format hooks.
default_scope = 'mmpretrain'

# mmregnet.engine: checkpoints are written atomically (never half-written)
# and hold plain data only, so they load with torch.load(weights_only=True);
# training runs in channels_last memory (default_hooks.channels_last.enabled
# =False trains in NCHW), checkpoints hold NCHW weights.
custom_imports = dict(imports=['mmregnet.engine'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=3,
        backend_args=dict(backend='atomic_local')),
    # reshuffles the distributed sampler each epoch
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
    portable_checkpoint=dict(type='mmregnet.PortableCheckpointHook'),
    channels_last=dict(type='mmregnet.ChannelsLastHook'))

# Precise BN recomputes the BN statistics on 8192 training images after each
# epoch; it must run before CheckpointHook (VERY_LOW) and EMAHook (NORMAL).
custom_hooks = [
    dict(
        type='PreciseBNHook',
        num_samples=8192,
        interval=1,
        priority='ABOVE_NORMAL')
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'

load_from = None  # a checkpoint to start from
resume = False  # resume training from load_from (or the last checkpoint)
# no seed by default (--cfg-options randomness.seed=0 to fix one)
randomness = dict(seed=None, deterministic=False)
