"""Evaluate a checkpoint with an mmengine Runner: one process, torchrun
(dist_test.sh) or slurm (slurm_test.sh)."""
import argparse
import sys

from mmengine.evaluator import DumpResults
from mmengine.runner import Runner

from mmregnet.engine import (DatasetNotFoundError, add_runner_args,
                             check_dataset_paths, init_cpu_distributed,
                             load_runner_config)


def main():
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument('--out', help='dump the predictions to this .pkl')
    add_runner_args(parser)
    args = parser.parse_args()
    cfg = load_runner_config(args)
    cfg.load_from = args.checkpoint
    try:
        check_dataset_paths(cfg, ['test_dataloader'])
    except DatasetNotFoundError as error:
        sys.exit(f'{error}')
    init_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    if args.out:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    print({key: round(float(value), 4) for key, value in metrics.items()})


if __name__ == '__main__':
    main()
