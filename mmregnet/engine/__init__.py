"""Runtime support for training with mmengine: atomic, weights-only-loadable
checkpoints, CPU torch.distributed, and an early check that a config's
dataset is on disk."""
from .checkpoint import (ATOMIC_BACKEND, AtomicLocalBackend,
                         PortableCheckpointHook, atomic_write, to_plain_data)
from .data_check import DatasetNotFoundError, check_dataset_paths
from .launch import add_runner_args, init_cpu_distributed, load_runner_config

__all__ = [
    'ATOMIC_BACKEND', 'AtomicLocalBackend', 'PortableCheckpointHook',
    'atomic_write', 'to_plain_data', 'DatasetNotFoundError',
    'check_dataset_paths', 'init_cpu_distributed', 'add_runner_args',
    'load_runner_config'
]
