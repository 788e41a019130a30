"""Sharded training (``tools/train.py --fsdp``): mmengine's ``FlexibleRunner``
with :class:`RegNetFSDPStrategy`, PyTorch's FullyShardedDataParallel on CUDA
(nccl) or on CPU processes (gloo).

FSDP keeps 1/N of every parameter, gradient and optimizer state on each of
N processes and gathers one unit's weights just before it runs. The units
are the RegNet blocks; the stem, neck and head form the root unit, which
is gathered for the whole forward: mmpretrain's heads are called through
their own methods (``head.loss``), which an FSDP unit of their own would
not gather.
"""
import functools
import os
import time
from typing import Callable, List, Optional

import mmengine
import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine._strategy import FSDPStrategy
from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from torch.distributed.fsdp import FullyShardedDataParallel
from torch.distributed.fsdp.wrap import lambda_auto_wrap_policy

from ..fileio import atomic_torch_save
from ..models.backbones.regnet import RegNetBlock
from ..registry import STRATEGIES

FSDP_STRATEGY = 'mmregnet.RegNetFSDPStrategy'
REGNET_BACKBONES = ('mmregnet.RegNet', )
_BF16_MIXED_PRECISION = dict(
    param_dtype='bfloat16', reduce_dtype='float32', buffer_dtype='float32')


def wrap_units(model: nn.Module) -> List[nn.Module]:
    """The modules of ``model`` that become FSDP units: its
    :class:`RegNetBlock` s.

    Raises:
        ValueError: ``model`` has no RegNet block.
    """
    blocks = [m for m in model.modules() if isinstance(m, RegNetBlock)]
    if not blocks:
        raise ValueError(
            f'--fsdp shards the blocks of mmregnet.RegNet backbones; '
            f'{type(model).__name__} has none')
    return blocks


def regnet_wrap_policy(model: nn.Module) -> Callable:
    """FSDP ``auto_wrap_policy``: one unit per module of
    :func:`wrap_units`."""
    units = set(wrap_units(model))
    return functools.partial(lambda_auto_wrap_policy,
                             lambda_fn=units.__contains__)


@STRATEGIES.register_module()
class RegNetFSDPStrategy(FSDPStrategy):
    """mmengine's ``FSDPStrategy`` for mmregnet classifiers, on CUDA and CPU.

    - Units from :func:`regnet_wrap_policy`; ``device_id`` the local GPU, or
      the CPU (then the process group is gloo: mmengine's ``init_dist``
      calls ``torch.cuda.set_device``).
    - Checkpoints hold the full (consolidated) state dict, optimizer state
      included, gathered on rank 0 and written atomically: single-process
      tools load them like any other checkpoint, and ``--resume`` shards
      them again.
    - Mixed precision (``model_wrapper.mixed_precision``) is FSDP's: bf16
      compute and gathers, fp32 gradient reduction, master weights and
      optimizer state.

    Args:
        model_wrapper (dict, optional): arguments of mmengine's
            ``MMFullyShardedDataParallel`` (e.g. ``mixed_precision``,
            ``sharding_strategy``); ``auto_wrap_policy`` is this class's.
        **kwargs: mmengine ``FSDPStrategy``'s, except ``state_dict_cfg``.
    """

    def __init__(self, *, model_wrapper: Optional[dict] = None, **kwargs):
        super().__init__(
            model_wrapper=model_wrapper, state_dict_cfg='full', **kwargs)

    def _setup_distributed(self, launcher='pytorch', backend='nccl',
                           **kwargs):
        if torch.cuda.is_available():
            return super()._setup_distributed(launcher, backend, **kwargs)
        if not dist.is_initialized():
            dist.init_process_group(backend='gloo')

    def _wrap_model(self, model: nn.Module) -> FullyShardedDataParallel:
        wrapper = dict(self.model_wrapper or {})
        wrapper.setdefault('type', 'MMFullyShardedDataParallel')
        wrapper['auto_wrap_policy'] = regnet_wrap_policy(model)
        wrapper.setdefault(
            'device_id', int(os.environ['LOCAL_RANK'])
            if torch.cuda.is_available() else torch.device('cpu'))
        self.model_wrapper = wrapper
        units = len(wrap_units(model))
        model = super()._wrap_model(model)
        self.logger.info(f'FSDP over {dist.get_world_size()} processes: '
                         f'{units} RegNet block units and the root (stem, '
                         'neck, head)')
        return model

    def load_optim_state_dict(self, state_dict: dict) -> None:
        # mmengine's FSDPStrategy passes the arguments in torch < 2.1's order
        optimizer = self.optim_wrapper.optimizer
        self.optim_wrapper.load_state_dict(
            FullyShardedDataParallel.optim_state_dict_to_load(
                model=self.model, optim=optimizer,
                optim_state_dict=state_dict))

    def save_checkpoint(self,
                        filename: str,
                        *,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        extra_ckpt: Optional[dict] = None,
                        callback: Optional[Callable] = None) -> None:
        """Gather the full state on rank 0 (all ranks take part) and write
        it atomically there."""
        checkpoint = dict(state_dict=self.model_state_dict())
        if save_optimizer and hasattr(self, 'optim_wrapper'):
            checkpoint['optimizer'] = self.optim_state_dict()
        if save_param_scheduler and hasattr(self, 'param_schedulers'):
            checkpoint['param_schedulers'] = self.scheduler_state_dict()
        checkpoint.update(extra_ckpt or {})
        checkpoint.setdefault('meta', {}).update(
            seed=self.seed,
            time=time.strftime('%Y%m%d_%H%M%S', time.localtime()),
            mmengine=mmengine.__version__)
        if callback is not None:
            callback(checkpoint)
        if is_main_process():
            atomic_torch_save(checkpoint, filename)


def is_sharded(cfg: Config) -> bool:
    """Whether ``cfg`` trains with :class:`RegNetFSDPStrategy`."""
    return (cfg.get('strategy') or {}).get('type') == FSDP_STRATEGY


def configure_fsdp(cfg: Config) -> Config:
    """Switch ``cfg`` to ``FlexibleRunner`` + :class:`RegNetFSDPStrategy`
    (then :func:`configure_sharded`)."""
    cfg.runner_type = 'FlexibleRunner'
    if not is_sharded(cfg):
        cfg.strategy = dict(type=FSDP_STRATEGY)
    return cfg


def configure_sharded(cfg: Config, amp: bool = False,
                      compile: bool = False) -> Config:
    """Check a sharded config against the model and the other options, and
    finish it: ``amp`` turns on the strategy's bf16 mixed precision, and
    training keeps the model's NCHW layout (FSDP's parameters are views
    into flat shards; the channels_last hook is turned off).

    Raises:
        ValueError: naming the conflict: a model other than an
            mmregnet.RegNet classifier, ``compile``, or no launcher.
    """
    model = cfg.model
    backbone = (model.get('backbone') or {}).get('type')
    if model.get('type') != 'ImageClassifier' or \
            backbone not in REGNET_BACKBONES:
        raise ValueError(
            '--fsdp shards ImageClassifier models with an mmregnet.RegNet '
            f'backbone (one unit per block); this config has {model.type} '
            f'with backbone {backbone}')
    if compile:
        raise ValueError(
            '--fsdp and --compile do not combine: mmengine 0.10.7 shards '
            'with FullyShardedDataParallel, whose units break '
            'torch.compile\'s graph (PyTorch compiles sharded models '
            'through fully_shard); drop one of them')
    if cfg.get('launcher', 'none') == 'none':
        raise ValueError(
            '--fsdp shards over processes: start it with '
            'tools/dist_train.sh CONFIG NUM_PROCS --fsdp (or --launcher '
            'pytorch/slurm)')
    if amp:
        cfg.strategy.model_wrapper = dict(
            cfg.strategy.get('model_wrapper') or {},
            mixed_precision=_BF16_MIXED_PRECISION)
    channels_last = cfg.get('default_hooks', {}).get('channels_last')
    if channels_last:
        channels_last.enabled = False
    return cfg


def build_runner(cfg: Config):
    """The runner ``cfg`` asks for: ``runner_type`` (e.g.
    ``FlexibleRunner``) from mmengine's ``RUNNERS``, else ``Runner``."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
