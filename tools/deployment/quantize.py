"""Quantize a classifier to int8 (post-training, static) and write the
artifact: an ONNX file run by onnxruntime (docs/performance.md).

    python tools/deployment/quantize.py CONFIG CHECKPOINT --out OUT
        [--num-calib 512] [--cfg-options KEY=VALUE ...]

Calibrates on ``--num-calib`` images of the config's training data, spread
evenly over the dataset, passed through its *test* pipeline and data
preprocessor. Writes ``OUT.onnx`` atomically, carrying the class names,
data preprocessor and test pipeline: evaluate it with
``tools/test.py CONFIG OUT.onnx``, classify with
``mmregnet.inference_model('OUT.onnx', images)``.
"""
import argparse
import copy
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction

BATCH_SIZE = 32


def calibration_dataset(cfg: Config):
    """The config's training dataset with its test pipeline."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS

    from mmregnet.engine.config import innermost_dataset
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    innermost_dataset(dataset_cfg).pipeline = \
        cfg.test_dataloader.dataset.pipeline
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(dataset_cfg)


def calibration_batches(dataset, model, num: int):
    """Batches of ``num`` images of ``dataset``, spread evenly over it,
    through ``model``'s data preprocessor: (N, C, H, W) tensors."""
    from mmengine.dataset import pseudo_collate
    indices = torch.linspace(0, len(dataset) - 1, num).round().long()
    for start in range(0, num, BATCH_SIZE):
        items = [dataset[int(i)] for i in indices[start:start + BATCH_SIZE]]
        with torch.no_grad():
            yield model.data_preprocessor(pseudo_collate(items))['inputs']


def plain(value):
    """``value`` with every ConfigDict made a dict (for JSON)."""
    if hasattr(value, 'to_dict'):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='classification config file')
    parser.add_argument('checkpoint', help='checkpoint of the config')
    parser.add_argument(
        '--out', required=True, help='artifact path, without .onnx')
    parser.add_argument(
        '--num-calib', type=int, default=512,
        help='training images to calibrate the activation ranges on')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. the data root')
    args = parser.parse_args(argv)
    if args.num_calib < 1:
        parser.error(f'--num-calib {args.num_calib}: give at least 1')
    return args


def main(argv=None):
    from mmregnet.apis import get_model, is_detector
    from mmregnet.deploy import quantize_int8
    from mmregnet.deploy.int8_runtime import import_onnxruntime
    from mmregnet.engine import (CheckpointError, ConfigError,
                                 DatasetNotFoundError, check_dataset_paths,
                                 read_config)
    args = parse_args(argv)
    try:
        import_onnxruntime()
    except ImportError as error:
        sys.exit(f'error: {error}')
    for path in (args.config, args.checkpoint):
        if not osp.isfile(path):
            sys.exit(f'error: no such file: {path}')
    try:
        cfg = read_config(args.config)
    except ConfigError as error:
        sys.exit(f'error: {error}')
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if is_detector(cfg):
        sys.exit(f'error: {args.config} is a detector; int8 quantization '
                 'takes classifiers')
    try:
        check_dataset_paths(cfg, ['train_dataloader'])
    except DatasetNotFoundError as error:
        sys.exit(f'error: {error}')
    try:
        model = get_model(cfg, pretrained=args.checkpoint).eval()
    except (ValueError, CheckpointError) as error:
        sys.exit(f'error: {error}')
    dataset = calibration_dataset(cfg)
    num = min(args.num_calib, len(dataset))
    int8 = quantize_int8(model, calibration_batches(dataset, model, num))
    classes = (getattr(model, '_dataset_meta', None) or {}).get('classes') or \
        dataset.metainfo.get('classes')
    path = int8.save(
        args.out,
        dataset_meta=dict(classes=plain(classes)) if classes else {},
        data_preprocessor=plain(
            cfg.model.get('data_preprocessor')
            or cfg.get('data_preprocessor') or {}),
        test_pipeline=plain(cfg.test_dataloader.dataset.pipeline))
    print(f'wrote {path}: int8, calibrated on {num} training images')


if __name__ == '__main__':
    main()
