"""Train with an mmengine Runner: one process, torchrun (dist_train.sh) or
slurm (slurm_train.sh)."""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmregnet.engine import (DatasetNotFoundError, check_dataset_paths,
                             init_cpu_distributed)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='folder for logs and checkpoints')
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
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
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
        cfg.resume, cfg.load_from = True, args.resume
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    return cfg


def main():
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    try:
        check_dataset_paths(cfg, ['train_dataloader', 'val_dataloader'])
    except DatasetNotFoundError as error:
        sys.exit(f'{error}')
    init_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
