"""Sample RegNets from the design space (as the paper's sweeps do) and write
one config per sample, ready for the ordinary training tools:

    python tools/design/sample_sweep.py BASE_CONFIG --num 32 \\
        --flops 0.3G 0.5G [--params LO HI] [--seed 0] [--se-ratio 0.25] \\
        [--input-size 224] [--range w0 8 64 ...] --out-dir sweeps/NAME

writes ``sweeps/NAME/configs/<run>.py`` (each inherits BASE_CONFIG with the
sampled arch, its head / FPN channels and ``work_dir`` set to
``sweeps/NAME/work_dirs/<run>``) and ``sweeps/NAME/manifest.json`` (design
parameters, params and FLOPs of each run). Train them with
``tools/train.py``, ``dist_train.sh`` or ``slurm_train.sh``, then run
``tools/design/analyze_sweep.py sweeps/NAME``. FLOPs are counted at the
input size (by default the config's RandomResizedCrop size, else 224) with
the config's head and stem.
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import DictAction

from mmregnet.apis.derive import (backbone_arch, counting_kwargs,
                                  load_regnet_config, model_overrides,
                                  parse_count, write_derived_config)
from mmregnet.design import complexity, resolve_arch, sample, stage_specs
from mmregnet.engine import atomic_write
from mmregnet.engine.config import train_crop_size

MANIFEST = 'manifest.json'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='base config with an mmregnet.RegNet')
    parser.add_argument('--num', type=int, required=True,
                        help='number of models')
    parser.add_argument('--flops', type=parse_count, nargs=2,
                        metavar=('LO', 'HI'), help='e.g. 0.3G 0.5G')
    parser.add_argument('--params', type=parse_count, nargs=2,
                        metavar=('LO', 'HI'), help='e.g. 2M 6M')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--se-ratio', type=float,
                        help="squeeze-excitation ratio (default: the base "
                        "arch's, 0.25 for RegNetY)")
    parser.add_argument('--input-size', type=int,
                        help='input size for counting FLOPs')
    parser.add_argument('--range', nargs=3, action='append', default=[],
                        metavar=('NAME', 'LO', 'HI'),
                        help='narrow a sampling range, e.g. --range w0 8 64 '
                        '(names: depth w0 wa wm group_w bot_mul)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, metavar='KEY=VALUE',
                        help='settings written into every config, e.g. '
                        'train_cfg.max_epochs=10')
    parser.add_argument('--out-dir', required=True, help='sweeps/NAME')
    return parser.parse_args()


def _number(text: str):
    value = float(text)
    return int(value) if value.is_integer() and '.' not in text else value


def add_options(overrides: dict, options: dict) -> dict:
    """``overrides`` with dotted ``options`` (``{'a.b': 1}``) set in it."""
    for key, value in options.items():
        *parents, leaf = key.split('.')
        node = overrides
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return overrides


def main():
    args = parse_args()
    manifest_path = osp.join(args.out_dir, MANIFEST)
    if osp.exists(manifest_path):
        sys.exit(f'{manifest_path} exists: choose another --out-dir (a '
                 'sweep is written once)')
    try:
        ranges = {name: (_number(lo), _number(hi))
                  for name, lo, hi in args.range}
        cfg = load_regnet_config(args.config)
        cfg.merge_from_dict(args.cfg_options)
        base_arch = resolve_arch(backbone_arch(cfg))
        se_ratio = base_arch.se_ratio if args.se_ratio is None \
            else args.se_ratio
        counting = dict(counting_kwargs(cfg),
                        input_size=args.input_size or train_crop_size(cfg)
                        or 224)
        designs = sample(args.num, seed=args.seed, flops=args.flops,
                         params=args.params, se_ratio=se_ratio,
                         ranges=ranges, complexity_kwargs=counting)
    except ValueError as error:
        sys.exit(f'error: {error}')
    train_cfg = cfg.get('train_cfg') or {}
    runs = []
    print(f'{"run":<10} {"w0":>4} {"wa":>6} {"wm":>6} {"d":>3} {"g":>4} '
          f'{"params":>8} {"MFLOPs":>8}  stage widths')
    for index, design in enumerate(designs):
        name = f'run-{index:03d}'
        stages = stage_specs(design)
        cx = complexity(stages, **counting)
        config = osp.join(args.out_dir, 'configs', f'{name}.py')
        write_derived_config(
            config, args.config,
            add_options(
                dict(model=model_overrides(cfg, design),
                     work_dir=f'{{{{ fileDirname }}}}/../work_dirs/{name}'),
                args.cfg_options),
            comment=[f'{name} of the sweep in {args.out_dir} (seed '
                     f'{args.seed}), written by tools/design/sample_sweep.py'])
        runs.append(dict(
            name=name, config=osp.join('configs', f'{name}.py'),
            work_dir=osp.join('work_dirs', name), design=design,
            params=cx.params, flops=cx.flops,
            widths=[s.width for s in stages],
            depths=[s.depth for s in stages]))
        print(f'{name:<10} {design["w0"]:>4} {design["wa"]:>6} '
              f'{design["wm"]:>6} {design["depth"]:>3} {design["group_w"]:>4} '
              f'{cx.params / 1e6:>7.3f}M {cx.flops / 1e6:>8.2f}  '
              f'{runs[-1]["widths"]}')
    manifest = dict(
        base_config=args.config, seed=args.seed, num=args.num,
        flops=args.flops, params=args.params, ranges=ranges,
        counting=counting,
        max_epochs=train_cfg.get('max_epochs'),
        max_iters=train_cfg.get('max_iters'),
        runs=runs)
    atomic_write(json.dumps(manifest, indent=1) + '\n', manifest_path)
    print(f'wrote {len(runs)} configs and {manifest_path}; train each with '
          f'python tools/train.py {args.out_dir}/configs/run-NNN.py, then '
          f'python tools/design/analyze_sweep.py {args.out_dir}')


if __name__ == '__main__':
    main()
