# What every mmregnet detection config adds to mmdet's own RegNet recipe.
# The family configs next to this file pull these in with {{_base_.<name>}}.

# mmregnet's backbone with the settings mmdet found to matter for RegNet:
# all four stages to the FPN, stem + stage 1 frozen, BN statistics frozen.
regnet_backbone = dict(
    _delete_=True,
    type='mmregnet.RegNet',
    arch='regnetx_3.2gf',
    out_indices=(0, 1, 2, 3),
    frozen_stages=1,
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=True,
    init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://regnetx_3.2gf'))

# pycls trains RegNets on BGR images normalised with these (BGR) statistics.
pycls_preprocessor = dict(
    mean=[103.53, 116.28, 123.675],
    std=[57.375, 57.12, 58.395],
    bgr_to_rgb=False)

# Checkpoints written atomically and loadable with weights_only=True;
# training in channels_last memory (default_hooks.channels_last.enabled=False
# trains in NCHW).
custom_imports = dict(imports=['mmregnet.engine'], allow_failed_imports=False)
regnet_default_hooks = dict(
    checkpoint=dict(backend_args=dict(backend='atomic_local')),
    portable_checkpoint=dict(type='mmregnet.PortableCheckpointHook'),
    channels_last=dict(type='mmregnet.ChannelsLastHook'))
