"""Per-device training memory of a config under DDP and FSDP, and the fewest
devices on which it fits (mmregnet.engine.memory_plan; no model is built).

    python tools/analysis_tools/plan_memory.py CONFIG --gpus 8 --gpu-mem 80G \\
        [--batch-size B] [--amp] [--with-cp]
"""
import argparse
import sys

from mmengine.config import Config

from mmregnet.engine.memory_plan import (format_plans, parameter_count,
                                         parse_memory, plan, setup_from_config,
                                         smallest_fit)


def _load(path: str) -> Config:
    try:
        return Config.fromfile(path)
    except Exception as error:  # missing, unparsable, bad _base_
        raise ValueError(f'not a loadable config ({type(error).__name__}: '
                         f'{error})') from None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--gpus', type=int, default=8,
                        help='devices to plan for (default 8)')
    parser.add_argument('--gpu-mem', default='80G',
                        help='memory per device, e.g. 80G (default)')
    parser.add_argument('--batch-size', type=int,
                        help='images per device (default: the config\'s)')
    parser.add_argument('--amp', action='store_true',
                        help='bf16 activations and gathered weights')
    parser.add_argument('--with-cp', action='store_true',
                        help='activation checkpointing per block')
    args = parser.parse_args(argv)
    try:
        if args.gpus < 1 or (args.batch_size is not None
                             and args.batch_size < 1):
            raise ValueError('--gpus and --batch-size must be at least 1, '
                             f'got {args.gpus} and {args.batch_size}')
        device_memory = parse_memory(args.gpu_mem)
        cfg = _load(args.config)
        setup = setup_from_config(cfg, args.batch_size, args.amp,
                                  args.with_cp or None)
    except ValueError as error:
        sys.exit(f'error: {args.config}: {error}'.splitlines()[0])
    print(f'{cfg.model.backbone.arch}: {parameter_count(setup) / 1e6:,.1f} M '
          f'parameters, {setup.batch_size} images of {setup.input_size}px '
          f'per device, {setup.optimizer_states} optimizer state(s) per '
          f'parameter, with_cp={setup.with_cp}, amp={setup.amp}; GB per '
          f'device ({device_memory / 1e9:g} GB each)')
    plans = [plan(setup, strategy, args.gpus) for strategy in ('DDP', 'FSDP')]
    print(format_plans(plans, device_memory))
    if smallest_fit(setup, 'DDP', device_memory):
        print('DDP: fits (the same on any number of devices)')
    else:
        print('DDP: does not fit (every device holds everything)')
    fewest = smallest_fit(setup, 'FSDP', device_memory)
    print(f'FSDP: fits on {fewest} or more devices' if fewest else
          'FSDP: does not fit (the gathered units and activations alone '
          'exceed a device)')


if __name__ == '__main__':
    main()
