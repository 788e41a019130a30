"""Scale the RegNet of a classification or mmdet config to a FLOPs budget or
by a factor ("Fast and Accurate Model Scaling"), writing a runnable config:

    python tools/design/scale_config.py CONFIG --flops 1.2G --out NEW.py
    python tools/design/scale_config.py CONFIG --factor 4 \\
        [--scaling d1_w8_g8_r1] [--input-size 224] --out NEW.py

The new config inherits CONFIG; the backbone arch becomes the scaled stages
(an AnyNet dict), the FPN's (or the classification head's) ``in_channels``
follow the new widths, and, when the scaling grows the resolution, every
pipeline's image sizes are scaled too. FLOPs are the analytic multiply-adds
of ``mmregnet.design.complexity`` at the input size (by default the
classification crop, else 224), with the config's head, stem and strides.
"""
import argparse
import sys

from mmregnet.apis.derive import (backbone_arch, counting_kwargs,
                                  load_regnet_config, model_overrides,
                                  parse_count, pipeline_overrides,
                                  write_derived_config)
from mmregnet.design import (FAST_COMPOUND_SCALING, complexity, scale,
                             scale_factor_for, scaling_factors, stage_specs)
from mmregnet.engine.config import train_crop_size


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='classification or mmdet config')
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument('--flops', type=parse_count,
                        help='target multiply-adds, e.g. 1.2G or 400M')
    target.add_argument('--factor', type=float,
                        help='scale factor s (flops grow about s times)')
    parser.add_argument('--scaling', default=FAST_COMPOUND_SCALING,
                        help='scaling type: letters of dwgr or weights such '
                        'as d1_w8_g8_r1 (default, fast compound scaling)')
    parser.add_argument('--input-size', type=int,
                        help='input size for counting FLOPs (default: the '
                        "config's RandomResizedCrop size, else 224)")
    parser.add_argument('--out', required=True, help='the new config (.py)')
    return parser.parse_args()


def describe(stages, input_size, counting) -> str:
    cx = complexity(stages, input_size, **counting)
    return (f'depths {[s.depth for s in stages]}, widths '
            f'{[s.width for s in stages]}, group widths '
            f'{[s.group_w for s in stages]}: {cx.params / 1e6:.3f} M params, '
            f'{cx.flops / 1e9:.4f} GFLOPs at {input_size}x{input_size}')


def main():
    args = parse_args()
    if not args.out.endswith('.py'):
        sys.exit(f'--out must be a .py config, got {args.out!r}')
    try:
        cfg = load_regnet_config(args.config)
        arch = backbone_arch(cfg)
        rounding = cfg.model.backbone.get('width_rounding', 'pycls')
        counting = counting_kwargs(cfg)
        input_size = args.input_size or train_crop_size(cfg) or 224
        factor = args.factor
        if factor is None:
            factor = scale_factor_for(
                arch, args.flops, scaling=args.scaling,
                input_size=input_size, rounding=rounding,
                complexity_kwargs=counting)
        scaled = scale(arch, factor, scaling=args.scaling,
                       input_size=input_size, rounding=rounding)
    except ValueError as error:
        sys.exit(f'error: {error}')
    before = stage_specs(arch, rounding=rounding)
    after = stage_specs(scaled.arch)
    print('before:', describe(before, input_size, counting))
    print('after: ', describe(after, scaled.input_size, counting))
    overrides = dict(model=model_overrides(cfg, scaled.arch))
    ratio = scaling_factors(args.scaling, factor)[3]
    if ratio != 1:
        overrides.update(pipeline_overrides(cfg, ratio))
        print(f'image sizes of the pipelines scaled by r = {ratio:.4f}')
    if overrides['model']['backbone'].get('init_cfg', 0) is None:
        print('pretrained backbone weights dropped (they fit the old widths)')
    write_derived_config(
        args.out, args.config, overrides,
        comment=[f'{args.config} scaled by s = {factor:.4g} '
                 f'(scaling {args.scaling}), written by '
                 'tools/design/scale_config.py'])
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
