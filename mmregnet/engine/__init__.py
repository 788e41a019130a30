"""Runtime support for training with mmengine: atomic, weights-only-loadable
checkpoints and clear errors for damaged ones, configs read with one-line
errors, CPU torch.distributed, early checks that a config's dataset is on
disk and a detector's mmdet and mmcv ops installed; training speed
(channels_last, bf16 autocast on CPU, torch.compile); sharded training
(FSDP) and its memory plan.

Importing it installs mmregnet's checkpoint loaders, model loader and file
backend in mmengine (:mod:`.registration`, the one place that does so)."""
from ..fileio import CheckpointError, atomic_write, read_checkpoint
from .checkpoint import (ATOMIC_BACKEND, AtomicLocalBackend,
                         PortableCheckpointHook, to_plain_data)
from .config import (ConfigError, DetectionStackMissing, check_detection_stack,
                     read_config)
from .data_check import DatasetNotFoundError, check_dataset_paths
from .fsdp import (FSDP_STRATEGY, RegNetFSDPStrategy, build_runner,
                   configure_fsdp, regnet_wrap_policy, wrap_units)
from .launch import (add_runner_args, init_cpu_distributed, load_runner_config,
                     runner_options)
from .registration import register_in_mmengine
from .speed import (ChannelsLastHook, CPUBF16OptimWrapper, configure_speed,
                    native_bf16_feature)

register_in_mmengine()

__all__ = [
    'ATOMIC_BACKEND', 'AtomicLocalBackend', 'CheckpointError',
    'PortableCheckpointHook', 'atomic_write', 'read_checkpoint',
    'to_plain_data', 'ConfigError', 'DetectionStackMissing',
    'check_detection_stack', 'read_config', 'DatasetNotFoundError',
    'check_dataset_paths', 'init_cpu_distributed', 'add_runner_args',
    'load_runner_config', 'runner_options', 'ChannelsLastHook',
    'CPUBF16OptimWrapper', 'configure_speed', 'native_bf16_feature',
    'FSDP_STRATEGY', 'RegNetFSDPStrategy', 'build_runner', 'configure_fsdp',
    'regnet_wrap_policy', 'wrap_units', 'register_in_mmengine'
]
