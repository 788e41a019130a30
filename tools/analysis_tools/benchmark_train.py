"""Time the product path: ``tools/train.py``'s Runner against bare
training steps of the same model and of timm's, in one process.

    python tools/analysis_tools/benchmark_train.py CONFIG [--iters 16]
        [--blocks 4] [--warmup 3] [--batch-size 16] [--compile] [--amp]
        [--threads N] [--json OUT] [--cfg-options KEY=VALUE ...]

The Runner is built from CONFIG as ``tools/train.py`` builds it
(``load_runner_config``, then ``configure_speed`` for ``--amp`` and
``--compile``), so the config's hooks, data preprocessor and optim wrapper
all run, with three changes: the train dataloader reads synthetic images
(random, already decoded, of the config's crop size, with random labels;
no decoding or augmentation), there is no validation, and PreciseBN, which
only runs after the epoch, is left out. A Runner iteration is mmengine's
``time - data_time``: from ``before_train_iter`` to ``after_train_iter``
(data preprocessor, forward, loss, backward, optimizer step, the hooks).

The bare steps: the config's model (``mode='tensor'``) and timm's model of
the same arch, channels_last, ``F.cross_entropy``, ``backward()``, the
config's optimizer, ``zero_grad(set_to_none=True)``; eager, fp32, and with
``--amp`` also under the autocast of the Runner's precision. After
``--warmup`` untimed Runner iterations, ``--iters`` timed ones run in
``--blocks`` blocks; after each block a hook times as many steps of each
bare case (rotating their order), so that a slow phase of the machine hits
all cases. Every case's sample per block is the median of its steps; the
table shows the median over blocks and the Runner's speed relative to each
bare case (bare time / Runner time, paired per block: > 1 means the Runner
is faster).

Classification configs only (mmpretrain's ``ImageClassifier``): a
detection iteration depends on its images' boxes, which synthetic data
cannot stand in for.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Callable, List, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper
from mmengine.registry import OPTIMIZERS, DefaultScope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch.utils.data import Dataset

from mmregnet import benchmarking
from mmregnet.engine import (CPUBF16OptimWrapper, atomic_write,
                             configure_speed, load_runner_config,
                             native_bf16_feature)
from mmregnet.engine.config import crop_size as square_crop


class SyntheticImages(Dataset):
    """``length`` samples as ``PackInputs`` returns them: ``inputs`` a
    random uint8 image (3, size, size), ``data_samples`` a ``DataSample``
    with a random label; ``pool`` distinct images, repeated."""

    def __init__(self, length: int, size: int, num_classes: int,
                 pool: int = 64, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.length = length
        self.images = torch.randint(
            0, 256, (pool, 3, size, size), dtype=torch.uint8, generator=gen)
        self.samples = [
            DataSample(metainfo=dict(img_shape=(size, size))).set_gt_label(
                int(label))
            for label in torch.randint(0, num_classes, (pool, ),
                                       generator=gen)
        ]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        index %= len(self.samples)
        return dict(inputs=self.images[index],
                    data_samples=self.samples[index])


def crop_size(pipeline: list) -> int:
    """The side of the training images: the pipeline's square crop
    (:func:`mmregnet.engine.config.crop_size`)."""
    size = square_crop(pipeline)
    if size is not None:
        return size
    raise ValueError(
        'found no square crop_size or scale in the train pipeline '
        f'({[t.get("type") for t in pipeline]}); pass --input-size')


def check_classification(cfg: Config) -> None:
    scope = cfg.get('default_scope')
    if scope != 'mmpretrain':
        raise ValueError(
            f'{cfg.filename}: default_scope {scope!r}; benchmark_train.py '
            'times classification configs (default_scope \'mmpretrain\', '
            'an ImageClassifier): a detection iteration depends on real '
            'images\' boxes, which synthetic data cannot stand in for')


def benchmark_config(args, work_dir: str) -> Config:
    """The Runner config of ``tools/train.py CONFIG [--amp] [--compile]``
    (writing to ``work_dir``) on synthetic data: one epoch of
    ``warmup + iters`` iterations, no validation, no PreciseBN."""
    cfg = load_runner_config(
        args.config, cfg_options=args.cfg_options, work_dir=work_dir)
    cfg = configure_speed(cfg, amp=args.amp, compile=args.compile)
    check_classification(cfg)
    loader = cfg.train_dataloader
    size = args.input_size or crop_size(loader.dataset.pipeline)
    batch = args.batch_size or loader.batch_size
    dataset = dict(
        type=f'{SyntheticImages.__module__}.{SyntheticImages.__qualname__}',
        length=(args.warmup + args.iters) * batch,
        size=size,
        num_classes=cfg.model.head.num_classes)
    cfg.train_dataloader = dict(
        batch_size=batch,
        num_workers=0,
        dataset=dataset,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=loader.get('collate_fn', dict(type='pseudo_collate')))
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h['type'] not in ('PreciseBNHook', 'mmpretrain.PreciseBNHook')
    ]
    return cfg


def bare_step(model: torch.nn.Module, optimizer_cfg: dict, batch: int,
              size: int, num_classes: int, device: torch.device,
              autocast_dtype: Optional[torch.dtype]) -> Callable:
    """One training step of ``model`` (a ``benchmarking.Logits``) on a
    fixed channels_last batch with a fresh optimizer built from
    ``optimizer_cfg`` (the config's)."""
    model, fmt = benchmarking.prepare(model, 'channels_last', device,
                                      torch.float32, train=True)
    optimizer = OPTIMIZERS.build(
        dict(optimizer_cfg, params=model.parameters()))
    x = torch.randn(batch, 3, size, size, device=device).contiguous(
        memory_format=fmt)
    target = torch.randint(0, num_classes, (batch, ), device=device)
    autocast = torch.autocast(device.type, dtype=autocast_dtype,
                              enabled=autocast_dtype is not None)
    return benchmarking.training_step(model, x, target, optimizer,
                                      autocast)


def autocast_dtype(runner: Runner) -> Optional[torch.dtype]:
    """The dtype the Runner's (built) optim wrapper computes in under
    autocast (None: fp32)."""
    wrapper = runner.optim_wrapper
    if isinstance(wrapper, CPUBF16OptimWrapper):
        return torch.bfloat16
    if isinstance(wrapper, AmpOptimWrapper):
        return wrapper.cast_dtype or torch.float16
    return None


def bare_cases(cfg: Config, runner: Runner, batch: int, size: int):
    """The bare steps: the config's model and timm's of the same arch,
    fp32, and with the Runner's autocast dtype if it has one; and notes on
    what is missing."""
    model_cfg = cfg.model.copy()
    model_cfg.pop('data_preprocessor', None)
    num_classes = model_cfg.head.num_classes
    arch = model_cfg.backbone.arch
    device = next(runner.model.parameters()).device
    dtypes = [None] + ([autocast_dtype(runner)]
                       if autocast_dtype(runner) else [])
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        cases, notes = [], []
        for dtype in dtypes:
            precision = str(dtype).replace('torch.', '') if dtype else 'fp32'
            ours = benchmarking.Logits(
                MODELS.build(model_cfg), openmmlab=True)
            peer = benchmarking.build('timm', arch) \
                if isinstance(arch, str) else None
            if peer is None:
                notes.append(f'timm: no model for arch {arch}')
            else:
                peer.model.reset_classifier(num_classes)
            for name, model in (('mmregnet', ours), ('timm', peer)):
                if model is not None:
                    cases.append(benchmarking.Case(
                        name, f'bare channels_last {precision}', 'train',
                        bare_step(model, cfg.optim_wrapper.optimizer, batch,
                                  size, num_classes, device, dtype)))
    return cases, sorted(set(notes))


class InterleavedBareSteps(Hook):
    """Collects the Runner's iteration times (``time - data_time``) after
    ``warmup`` iterations in blocks of ``block``, and after each block times
    ``block`` steps of every bare case (outside the Runner's iteration
    time: this hook runs after ``IterTimerHook``). The bare cases come from
    ``make_cases(runner)`` in ``before_train``, when the Runner has built
    its optim wrapper (which sets their autocast dtype)."""
    priority = 'LOWEST'

    def __init__(self, runner_case, make_cases: Callable, warmup: int,
                 block: int, timer):
        self.runner_case, self.make_cases = runner_case, make_cases
        self.warmup, self.block, self.timer = warmup, block, timer
        self.cases, self.notes = [], []
        self.first_iteration = None
        self._steps: List[float] = []

    def before_train(self, runner) -> None:
        self.cases, self.notes = self.make_cases(runner)
        for case in self.cases:  # allocations, optimizer state
            case.run()
            case.run()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        hub = runner.message_hub
        step = float(hub.get_scalar('train/time').current() -
                     hub.get_scalar('train/data_time').current())
        if batch_idx == 0:
            self.first_iteration = step
        if batch_idx < self.warmup:
            return
        self._steps.append(step)
        if len(self._steps) < self.block:
            return
        self.runner_case.samples.append(statistics.median(self._steps))
        self._steps = []
        shift = len(self.runner_case.samples) % len(self.cases)
        for case in self.cases[shift:] + self.cases[:shift]:
            case.samples.append(statistics.median(
                self.timer(case.run, 1) for _ in range(self.block)))


def cpu_description() -> dict:
    return dict(native_bf16=native_bf16_feature() or 'none',
                cpu_capability=torch.backends.cpu.get_cpu_capability())


def table(cases, runner_case) -> List[str]:
    batch = int(runner_case.workload.split('bs')[1])
    lines = [f'{"case":36s} {"median ms":>10s} {"min-max ms":>17s} '
             f'{"img/s":>7s} {"Runner speed":>13s}']
    for case in [runner_case] + cases:
        ratio = '' if case is runner_case else \
            f'{runner_case.speedup_over(case, "median"):12.2f}x'
        lines.append(
            f'{case.impl + " " + case.mode:36s} {case.median * 1e3:10.1f} '
            f'{min(case.samples) * 1e3:8.1f}-{max(case.samples) * 1e3:8.1f} '
            f'{batch / case.median:7.1f} {ratio:>13s}')
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Time tools/train.py\'s Runner against bare training '
        'steps of the same model and of timm\'s',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='a classification config')
    parser.add_argument('--iters', type=int, default=16,
                        help='timed Runner iterations')
    parser.add_argument('--blocks', type=int, default=4,
                        help='blocks the timed iterations are split into, '
                        'bare steps timed after each')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed Runner iterations first (with '
                        '--compile the first one compiles)')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='images per iteration (default: the '
                        'config\'s train batch size)')
    parser.add_argument('--input-size', type=int, default=None,
                        help='image side (default: the train pipeline\'s '
                        'crop size)')
    parser.add_argument('--amp', action='store_true',
                        help='as tools/train.py --amp')
    parser.add_argument('--compile', action='store_true',
                        help='as tools/train.py --compile')
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads (default: torch\'s, all cores)')
    parser.add_argument('--work-dir', default=None,
                        help='the Runner\'s work dir (default: a temporary '
                        'one, removed after the run)')
    parser.add_argument('--json', help='write the results to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries')
    args = parser.parse_args(argv)
    for name in ('iters', 'blocks'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be at least 1, got '
                         f'{getattr(args, name)}')
    if args.warmup < 1:
        parser.error(f'--warmup must be at least 1, got {args.warmup}')
    if args.iters % args.blocks:
        parser.error(f'--iters {args.iters} is not a multiple of --blocks '
                     f'{args.blocks}')
    if not Path(args.config).is_file():
        parser.error(f'no such config: {args.config}')
    return args


def run(args, work_dir: str) -> dict:
    cfg = benchmark_config(args, work_dir)
    runner = Runner.from_cfg(cfg)
    batch = cfg.train_dataloader.batch_size
    size = cfg.train_dataloader.dataset.size
    device = next(runner.model.parameters()).device
    mode = ' '.join(['tools/train.py'] + (['--amp'] if args.amp else []) +
                    (['--compile'] if args.compile else []))
    runner_case = benchmarking.Case('Runner', mode, f'train bs{batch}',
                                    None)
    hook = InterleavedBareSteps(
        runner_case, lambda runner: bare_cases(cfg, runner, batch, size),
        args.warmup, args.iters // args.blocks,
        benchmarking.Timer('wall', device))
    runner.register_hook(hook)
    load_average_start = os.getloadavg()
    runner.train()
    cases = hook.cases
    env = benchmarking.environment(
        device=device, dtype=autocast_dtype(runner) or torch.float32,
        input_size=size, timer='wall', stat='median')
    env.update(cpu_description(), load_average_start=load_average_start,
               config=args.config, batch_size=batch,
               amp=args.amp, compile=args.compile, iters=args.iters,
               blocks=args.blocks, warmup=args.warmup)
    return dict(
        environment=env, notes=hook.notes,
        first_iteration_s=hook.first_iteration,
        cases=[dict(impl=c.impl, mode=c.mode, median_s=c.median,
                    samples_s=c.samples,
                    runner_speed=runner_case.speedup_over(c, 'median'))
               for c in [runner_case] + cases],
        table=table(cases, runner_case))


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.work_dir:
            result = run(args, args.work_dir)
        else:
            with tempfile.TemporaryDirectory() as work_dir:
                result = run(args, work_dir)
    except ValueError as error:
        sys.exit(f'error: {error}')
    env = result['environment']
    head = (f'{Path(args.config).stem}, {env["input_size"]}x'
            f'{env["input_size"]}, batch {env["batch_size"]}, '
            f'{env["dtype"]}; median over {args.blocks} blocks of '
            f'{args.iters // args.blocks} iterations (ms)')
    print('\n'.join(
        ['', json.dumps(env), head, '-' * len(head)] + result['table'] +
        [f'first Runner iteration: {result["first_iteration_s"]:.1f} s'] +
        result['notes']))
    if args.json:
        atomic_write(json.dumps(result, indent=1), args.json)


if __name__ == '__main__':
    main()
