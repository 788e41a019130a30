"""Train with an mmengine Runner (FlexibleRunner with --fsdp): one process,
torchrun (dist_train.sh) or slurm (slurm_train.sh)."""
import argparse
import os.path as osp
import sys

from mmregnet.engine import (CheckpointError, ConfigError,
                             DatasetNotFoundError, DetectionStackMissing,
                             add_runner_args, build_runner,
                             check_dataset_paths, configure_speed,
                             init_cpu_distributed, load_runner_config,
                             runner_options)


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
        '--amp',
        action='store_true',
        help='mixed precision: fp16/bf16 on CUDA (AmpOptimWrapper), bf16 '
        'autocast on CPUs with native bf16 (avx512_bf16 or AMX)')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the training step (inductor)')
    parser.add_argument(
        '--fsdp',
        action='store_true',
        help='shard weights, gradients and optimizer state over the '
        'processes (FlexibleRunner + FSDP, one unit per RegNet block; '
        'start with tools/dist_train.sh)')
    parser.add_argument(
        '--no-validate', action='store_true', help='skip validation')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by actual / base batch size (auto_scale_lr)')
    add_runner_args(parser)
    return parser.parse_args()


def merge_args(cfg, args):
    try:
        cfg = configure_speed(
            cfg, amp=args.amp, compile=args.compile, fsdp=args.fsdp)
    except ValueError as error:
        sys.exit(f'error: {error}')
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
    try:
        cfg = load_runner_config(args.config, **runner_options(args))
    except (ConfigError, DetectionStackMissing) as error:
        sys.exit(f'error: {error}')
    cfg = merge_args(cfg, args)
    try:
        check_dataset_paths(cfg, ['train_dataloader', 'val_dataloader'])
    except DatasetNotFoundError as error:
        sys.exit(f'{error}')
    init_cpu_distributed(cfg)
    try:
        build_runner(cfg).train()
    except CheckpointError as error:  # --resume, load_from, init_cfg
        sys.exit(f'error: {error}')


if __name__ == '__main__':
    main()
