"""Evaluate a checkpoint with an mmengine Runner: one process, torchrun
(dist_test.sh) or slurm (slurm_test.sh)."""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.runner import Runner

from mmregnet.engine import (DatasetNotFoundError, check_dataset_paths,
                             init_cpu_distributed)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument('--work-dir', help='folder for logs and metrics')
    parser.add_argument('--out', help='dump the predictions to this .pkl')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. test_dataloader.batch_size=16')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    try:
        check_dataset_paths(cfg, ['test_dataloader'])
    except DatasetNotFoundError as error:
        sys.exit(f'{error}')
    init_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    if args.out:
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    metrics = runner.test()
    print({key: round(float(value), 4) for key, value in metrics.items()})


if __name__ == '__main__':
    main()
