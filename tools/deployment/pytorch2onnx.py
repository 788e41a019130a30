"""Export a classifier or its RegNet backbone to ONNX, with a dynamic batch
size, and check the file against PyTorch with onnxruntime.

    python tools/deployment/pytorch2onnx.py CONFIG [CHECKPOINT]
        [--output-file model.onnx] [--shape 224 224] [--backbone-only]
        [--keep-bn] [--opset 18] [--legacy-exporter] [--verify]

CONFIG is a config file or a model name of ``mmregnet.list_models()``.
By default BatchNorm is folded first (``switch_to_deploy``); the graph's
input is ``input`` (N, 3, H, W) and its outputs ``logits`` (N, classes) or,
with ``--backbone-only``, ``feat0``, ``feat1``, ... (one per
``out_indices``). ``--verify`` runs the file at batch sizes 1 and 3 and
fails if any output differs from PyTorch's by more than ``--atol``.
"""
import argparse
import warnings
from typing import Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import DictAction


class ExportWrapper(nn.Module):
    """The tensors a deployment wants: a classifier's logits or the
    backbone's feature maps. Shapes: (N, 3, H, W) -> (N, classes) or a tuple
    of (N, C_i, H_i, W_i)."""

    def __init__(self, model: nn.Module, backbone_only: bool = False):
        super().__init__()
        self.model = model.backbone if backbone_only else model
        self.backbone_only = backbone_only

    def forward(self, x):
        if self.backbone_only:
            return tuple(self.model(x))
        return self.model(x, mode='tensor')

    def output_names(self, x: torch.Tensor) -> Tuple[str, ...]:
        if not self.backbone_only:
            return ('logits', )
        with torch.no_grad():
            return tuple(f'feat{i}' for i in range(len(self(x))))


def export_onnx(wrapper: ExportWrapper,
                path: str,
                shape: Sequence[int] = (224, 224),
                opset: int = 18,
                dynamo: bool = True) -> Tuple[str, ...]:
    """Write ``wrapper`` to ``path`` with a dynamic batch axis; returns the
    output names."""
    x = torch.randn(2, 3, *shape)
    names = wrapper.output_names(x)
    if dynamo:
        dynamic = dict(dynamic_shapes={'x': {0: torch.export.Dim('batch')}})
    else:
        axes = {name: {0: 'batch'} for name in ('input', ) + names}
        dynamic = dict(dynamic_axes=axes)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the legacy exporter's deprecation
        torch.onnx.export(
            wrapper, (x, ),
            path,
            input_names=['input'],
            output_names=list(names),
            opset_version=opset,
            dynamo=dynamo,
            **dynamic)
    return names


def verify_onnx(wrapper: ExportWrapper,
                path: str,
                shape: Sequence[int] = (224, 224),
                batch_sizes: Sequence[int] = (1, 3)) -> float:
    """Largest absolute difference between onnxruntime's and PyTorch's
    outputs over random inputs of each batch size."""
    import onnxruntime
    session = onnxruntime.InferenceSession(
        path, providers=['CPUExecutionProvider'])
    worst = 0.0
    for batch in batch_sizes:
        x = torch.randn(batch, 3, *shape)
        with torch.no_grad():
            expected = wrapper(x)
        expected = expected if isinstance(expected, tuple) else (expected, )
        got = session.run(None, {'input': x.numpy()})
        if len(got) != len(expected):
            raise AssertionError(f'{path} has {len(got)} outputs, PyTorch '
                                 f'{len(expected)}')
        for ours, theirs in zip(expected, got):
            if tuple(ours.shape) != theirs.shape:
                raise AssertionError(f'output shape {theirs.shape} != '
                                     f'{tuple(ours.shape)}')
            worst = max(worst, float(np.abs(ours.numpy() - theirs).max()))
    return worst


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file or model name')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument('--output-file', default='model.onnx')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224],
                        metavar=('H', 'W'))
    parser.add_argument('--backbone-only', action='store_true',
                        help='export the backbone\'s feature maps')
    parser.add_argument('--keep-bn', action='store_true',
                        help='do not fold BatchNorm (switch_to_deploy)')
    parser.add_argument('--opset', type=int, default=18)
    parser.add_argument('--legacy-exporter', action='store_true',
                        help='torch.onnx.export(dynamo=False) (TorchScript)')
    parser.add_argument('--verify', action='store_true',
                        help='compare onnxruntime with PyTorch')
    parser.add_argument('--atol', type=float, default=1e-4)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries (full-config keys, as '
                        'in tools/test.py), e.g. model.backbone.out_indices='
                        '"(0,1,2,3)"')
    return parser.parse_args(argv)


def main(argv=None):
    from mmregnet.apis import get_model, is_detector, model_config
    from mmregnet.deploy import switch_to_deploy
    from mmregnet.engine import CheckpointError
    args = parse_args(argv)
    try:
        config = model_config(args.config, args.cfg_options)
        if is_detector(config) and not args.backbone_only:
            raise ValueError(
                f'{args.config} is an mmdet detector: this tool exports '
                'classifiers and, with --backbone-only, a detector\'s RegNet '
                'backbone (mmdeploy exports whole detectors)')
        model = get_model(config, pretrained=args.checkpoint or False).eval()
    except (ValueError, CheckpointError) as error:
        raise SystemExit(f'error: {error}') from None
    if not args.keep_bn:
        switch_to_deploy(model)
    wrapper = ExportWrapper(model, args.backbone_only).eval()
    names = export_onnx(wrapper, args.output_file, args.shape, args.opset,
                        dynamo=not args.legacy_exporter)
    print(f'wrote {args.output_file}: input (N, 3, {args.shape[0]}, '
          f'{args.shape[1]}) -> {", ".join(names)}, dynamic batch')
    if args.verify:
        diff = verify_onnx(wrapper, args.output_file, args.shape)
        print(f'onnxruntime vs PyTorch at batch 1 and 3: max abs diff '
              f'{diff:.2e} (atol {args.atol:g})')
        if not diff <= args.atol:
            raise SystemExit(f'verification failed: {diff:.2e} > '
                             f'{args.atol:g}')


if __name__ == '__main__':
    main()
