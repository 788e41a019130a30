_base_ = 'mmpretrain::_base_/default_runtime.py'

# mmregnet.engine: checkpoints are written atomically (never half-written)
# and hold plain data only, so they load with torch.load(weights_only=True);
# training runs in channels_last memory (default_hooks.channels_last.enabled
# =False trains in NCHW), checkpoints hold NCHW weights.
custom_imports = dict(imports=['mmregnet.engine'], allow_failed_imports=False)

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=3,
        backend_args=dict(backend='atomic_local')),
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
