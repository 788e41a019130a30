"""Evaluate a checkpoint with an mmengine Runner: one process, torchrun
(dist_test.sh) or slurm (slurm_test.sh). An int8 artifact (``.onnx``, from
tools/deployment/quantize.py) in place of the checkpoint is evaluated with
the config's data pipeline, preprocessor and evaluator."""
import argparse
import os.path as osp
import sys

from mmengine.evaluator import DumpResults
from mmengine.runner import Runner

from mmregnet.deploy.int8_runtime import ARTIFACT_EXT, Int8Model
from mmregnet.engine import (CheckpointError, ConfigError,
                             DatasetNotFoundError, DetectionStackMissing,
                             add_runner_args, check_dataset_paths,
                             init_cpu_distributed, load_runner_config,
                             runner_options)
from mmregnet.models import exact_loading


def main():
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint',
                        help='checkpoint file or URL, or int8 artifact')
    parser.add_argument('--out', help='dump the predictions to this .pkl')
    add_runner_args(parser)
    args = parser.parse_args()
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        sys.exit(f'error: no such checkpoint: {args.checkpoint}')
    try:
        cfg = load_runner_config(args.config, **runner_options(args))
    except (ConfigError, DetectionStackMissing) as error:
        sys.exit(f'error: {error}')
    if args.checkpoint.endswith(ARTIFACT_EXT):
        try:
            Int8Model.load_classifier(args.checkpoint)  # clear error if not
        except (ImportError, ValueError) as error:
            sys.exit(f'error: {error}')
        if args.launcher != 'none':
            sys.exit('error: an int8 artifact is evaluated in one process '
                     '(onnxruntime, CPU): drop --launcher '
                     f'{args.launcher}')
        # the Runner adds the config's top-level data_preprocessor, if any
        preprocessor = cfg.model.get('data_preprocessor')
        cfg.model = dict(type='mmregnet.Int8Classifier',
                         artifact=args.checkpoint,
                         **({} if preprocessor is None else
                            dict(data_preprocessor=preprocessor)))
    else:
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
    try:
        with exact_loading():  # every tensor from the checkpoint
            metrics = runner.test()
    except CheckpointError as error:  # damaged, not fitting, not downloaded
        sys.exit(f'error: {error}')
    print({key: round(float(value), 4) for key, value in metrics.items()})


if __name__ == '__main__':
    main()
