"""Train with an mmengine Runner: one process, torchrun (dist_train.sh) or
slurm (slurm_train.sh)."""
import argparse
import os.path as osp
import sys

from mmengine.runner import Runner

import mmregnet.weights  # noqa: F401  (mmregnet://<name> checkpoints)
from mmregnet.engine import (CheckpointError, DatasetNotFoundError,
                             add_runner_args, check_dataset_paths,
                             init_cpu_distributed, load_runner_config)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        help='resume from this checkpoint, or (no value) from the latest one '
        'in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision (GPU)')
    parser.add_argument(
        '--no-validate', action='store_true', help='skip validation')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by actual / base batch size (auto_scale_lr)')
    add_runner_args(parser)
    return parser.parse_args()


def merge_args(cfg, args):
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            sys.exit('--amp needs a CUDA device: mmengine 0.10.7 '
                     'implements it with torch.cuda.amp')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        if '://' not in args.resume and not osp.isfile(args.resume):
            sys.exit(f'error: no such checkpoint: {args.resume}')
        cfg.resume, cfg.load_from = True, args.resume
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    return cfg


def main():
    args = parse_args()
    cfg = merge_args(load_runner_config(args), args)
    try:
        check_dataset_paths(cfg, ['train_dataloader', 'val_dataloader'])
    except DatasetNotFoundError as error:
        sys.exit(f'{error}')
    init_cpu_distributed(cfg)
    try:
        Runner.from_cfg(cfg).train()
    except CheckpointError as error:  # --resume, load_from, init_cfg
        sys.exit(f'error: {error}')


if __name__ == '__main__':
    main()
