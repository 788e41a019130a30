"""Parameters and FLOPs of a config's model: analytic (from the RegNet design,
no forward pass) and measured (mmengine's operator counter on a forward).

    python tools/analysis_tools/get_flops.py CONFIG [--shape 224 224]

FLOPs are multiply-adds, as in the paper. The measured count also includes
norm layers, activations and pooling, so it is slightly higher.
"""
import argparse

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config, DictAction

from mmregnet.apis import get_model


def main():
    parser = argparse.ArgumentParser(description='Count params and FLOPs')
    parser.add_argument('config', help='config file or model name')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224])
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    config = args.config
    if config.endswith('.py'):
        config = Config.fromfile(config)
        if args.cfg_options:
            config.merge_from_dict(args.cfg_options)
    model = get_model(config).eval()
    head = getattr(getattr(model, 'head', None), 'num_classes', 0)
    analytic = model.backbone.complexity(tuple(args.shape), num_classes=head)
    with torch.no_grad():
        measured = get_model_complexity_info(
            model, input_shape=(3, *args.shape), show_table=False,
            show_arch=False)
    built = sum(p.numel() for p in model.parameters())
    print(f'input shape    {tuple(args.shape)}')
    print(f'parameters     analytic {analytic.params:,}   built {built:,}')
    print(f'GFLOPs         analytic {analytic.flops / 1e9:.4f}   measured '
          f'{measured["flops"] / 1e9:.4f}')
    print(f'activations    analytic {analytic.acts / 1e6:.2f} M')


if __name__ == '__main__':
    main()
