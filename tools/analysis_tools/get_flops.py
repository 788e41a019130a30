"""Parameters and FLOPs of a config's model: analytic (from the RegNet design,
no forward pass) and measured (mmengine's operator counter on a forward).

    python tools/analysis_tools/get_flops.py CONFIG [--shape 224 224]

FLOPs are multiply-adds, as in the paper. The measured count also includes
norm layers, activations and pooling, so it is slightly higher. For an mmdet
detector both counts are the backbone's (its heads need image metas: mmdet's
own tools/analysis_tools/get_flops.py counts a whole detector).
"""
import argparse
import sys

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import DictAction

from mmregnet.apis import get_model, is_detector, model_config


def main():
    parser = argparse.ArgumentParser(
        description='Count the params and FLOPs of a config\'s model')
    parser.add_argument('config', help='config file or model name')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224],
                        metavar=('H', 'W'))
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries (full-config keys, e.g. '
        'model.backbone.arch=regnetx_800mf), for a file or a model name')
    args = parser.parse_args()
    try:
        config = model_config(args.config, args.cfg_options)
    except ValueError as error:
        sys.exit(f'error: {error}')
    model = get_model(config).eval()
    detector = is_detector(model)
    counted = model.backbone if detector else model
    head = getattr(getattr(model, 'head', None), 'num_classes', 0)
    analytic = model.backbone.complexity(tuple(args.shape), num_classes=head)
    with torch.no_grad():
        measured = get_model_complexity_info(
            counted, input_shape=(3, *args.shape), show_table=False,
            show_arch=False)
    built = sum(p.numel() for p in counted.parameters())
    if detector:
        print('an mmdet detector: the counts are its backbone\'s')
    print(f'input shape    {tuple(args.shape)}')
    print(f'parameters     analytic {analytic.params:,}   built {built:,}')
    print(f'GFLOPs         analytic {analytic.flops / 1e9:.4f}   measured '
          f'{measured["flops"] / 1e9:.4f}')
    print(f'activations    analytic {analytic.acts / 1e6:.2f} M')


if __name__ == '__main__':
    main()
