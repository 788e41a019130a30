"""Launching Runner jobs: shared tool options, and what mmengine's Runner
needs to run torch.distributed jobs on CPU."""
import argparse
import os
import os.path as osp
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction

from ..model_index import is_detector
from .config import check_detection_stack, read_config

#: the keyword parameters of :func:`load_runner_config` that
#: :func:`add_runner_args` gives the tools as options
RUNNER_OPTIONS = ('cfg_options', 'work_dir', 'launcher', 'local_rank')


def init_cpu_distributed(cfg) -> bool:
    """Start a gloo process group for ``launcher='pytorch'`` without CUDA.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` and wraps the
    model with ``device_ids=[LOCAL_RANK]``; both fail on CPU. Starting the
    group here (torchrun's environment variables) makes the Runner skip its
    own ``init_dist``, and ``device_ids=None`` lets DDP wrap a CPU model.
    Returns whether it did so.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Options that tools/train.py and tools/test.py share."""
    parser.add_argument('--work-dir', help='folder for logs and outputs')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_cfg.max_epochs=10')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def runner_options(args: argparse.Namespace) -> dict:
    """The options :func:`add_runner_args` added to a parser, from its
    parsed ``args``, as :func:`load_runner_config`'s keyword parameters."""
    return {name: getattr(args, name) for name in RUNNER_OPTIONS}


def load_runner_config(config: str,
                       cfg_options: Optional[dict] = None,
                       work_dir: Optional[str] = None,
                       launcher: str = 'none',
                       local_rank: int = 0) -> Config:
    """The config file ``config`` with the options that tools/train.py and
    tools/test.py share (:func:`add_runner_args`) applied: ``cfg_options``
    merged, ``launcher`` set, ``work_dir`` (default: the config's, else
    ``work_dirs/<config name>``); ``local_rank`` becomes ``LOCAL_RANK``
    unless the launcher set it. A data loader set to ``num_workers=0``
    (e.g. by ``cfg_options``) drops the configs' ``persistent_workers=True``,
    which torch refuses without workers.

    A config that is missing or does not parse is a
    :class:`~mmregnet.engine.config.ConfigError`, a detector's without mmdet
    or mmcv's compiled ops a
    :class:`~mmregnet.engine.config.DetectionStackMissing` (one line each).
    """
    os.environ.setdefault('LOCAL_RANK', str(local_rank))
    cfg = read_config(config)
    if is_detector(cfg):
        check_detection_stack(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader and loader.get('num_workers') == 0:
            loader.pop('persistent_workers', None)
    cfg.work_dir = work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(config))[0])
    return cfg
