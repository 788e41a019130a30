"""Time mmregnet against mmpretrain's, timm's and torchvision's RegNets.

    python tools/analysis_tools/benchmark.py [--archs regnetx_400mf ...]
        [--device cpu|cuda] [--threads N] [--rounds 5] [--json out.json]

All implementations run in one process with the same arch, input size,
dtype and thread count. Each is an ImageNet classifier (1000 logits) in
several modes: ``eager`` (NCHW), ``channels_last``, ``compile``
(channels_last + torch.compile; inference graphs with inductor freezing)
and, for mmregnet, ``deploy`` (``switch_to_deploy``: BatchNorm folded,
fused oneDNN kernels on CPU), ``deploy+compile`` and, on CPU in float32,
``int8`` (:func:`mmregnet.deploy.quantize_int8` calibrated on random
batches, run by onnxruntime; ``--no-int8`` skips it). Workloads: eval forward
at each ``--batch-sizes``, a training step (forward, cross-entropy,
backward, SGD step) at ``--train-batch-size``, and the peak memory of that
step (CPU: the allocator's live bytes recorded by torch.profiler; CUDA:
``max_memory_allocated``), above the memory held before the step, for the
eager modes and mmregnet's ``with_cp``. Cases are interleaved over
``--rounds`` rounds (their order rotating, after one untimed round); each
case reports the median time per iteration, its spread (min-max over
rounds), GFLOP/s (2 x the analytic multiply-adds of
:func:`mmregnet.design.complexity`, x3 for a training step) and its share
of a measured fp32 GEMM's throughput; the speed-ups of mmregnet's modes
over the peers are paired per round (:meth:`Case.speedup_over`). These
timing rules and the peers' models live in :mod:`mmregnet.benchmarking`.
"""
import argparse
import json
import os
import sys
import time
from typing import Dict, List, Optional

import torch

from mmregnet.benchmarking import (Case, Timer, build, environment,
                                   gemm_gflops, int8_model, measure,
                                   peak_step_memory, prepare, training_step)
from mmregnet.design import ARCH_SETTINGS, complexity, stage_specs

IMPLS = ('mmregnet', 'mmpretrain', 'timm', 'torchvision')
TRAIN_MODES = ('eager', 'channels_last')


def gflops_per_image(impl: str, arch: str, size: int) -> float:
    """Analytic forward GFLOPs (2 x multiply-adds); torchvision rounds
    some widths differently (e.g. its X-400MF is wider)."""
    rounding = 'torchvision' if impl == 'torchvision' else 'pycls'
    return 2e-9 * complexity(
        stage_specs(arch, rounding=rounding), input_size=size).flops


def eval_case(impl, arch, mode, batch, args) -> Optional[Case]:
    model = build(impl, arch)
    if model is None:
        return None
    if mode == 'int8':  # onnxruntime's CPU kernels, NCHW float32 input
        model, fmt = int8_model(model, args.input_size), \
            torch.contiguous_format
    else:
        model, fmt = prepare(model, mode, args.device, args.dtype,
                             train=False)
    x = torch.randn(batch, 3, args.input_size, args.input_size,
                    device=args.device, dtype=args.dtype).contiguous(
                        memory_format=fmt)

    def run():
        with torch.inference_mode():
            model(x)

    return Case(impl, mode, f'eval bs{batch}', run,
                gflop=batch * gflops_per_image(impl, arch, args.input_size))


def train_step(impl, arch, mode, batch, args, with_cp=False):
    """(step function, its model) for one SGD training step, or None."""
    model = build(impl, arch, with_cp=with_cp)
    if model is None:
        return None
    model, fmt = prepare(model, mode, args.device, torch.float32, train=True)
    x = torch.randn(batch, 3, args.input_size, args.input_size,
                    device=args.device).contiguous(memory_format=fmt)
    target = torch.randint(0, 1000, (batch, ), device=args.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    autocast = torch.autocast(args.device.type, dtype=args.dtype,
                              enabled=args.dtype != torch.float32)
    return training_step(model, x, target, optimizer, autocast)


def train_case(impl, arch, mode, batch, args) -> Optional[Case]:
    run = train_step(impl, arch, mode, batch, args)
    return None if run is None else Case(
        impl, mode, f'train bs{batch}', run,
        gflop=3 * batch * gflops_per_image(impl, arch, args.input_size))


def conv_profile(arch: str, batch: int, args, reps: int = 5) -> List[str]:
    """Where the deployed mmregnet's eval time goes: time and GFLOP/s of
    its convolutions by kind (stem, 1x1, grouped 3x3), timed one by one
    with hooks (synchronising CUDA around each layer)."""
    from mmregnet.deploy import FusedConv2d
    model, _ = prepare(build('mmregnet', arch), 'deploy', args.device,
                       args.dtype, train=False)
    x = torch.randn(batch, 3, args.input_size, args.input_size,
                    device=args.device, dtype=args.dtype)
    totals: Dict[str, List[float]] = {}  # kind -> [seconds, flop]
    starts = {}
    sync = torch.cuda.synchronize if args.device.type == 'cuda' else \
        (lambda: None)

    def before(module, inputs):
        sync()
        starts[module] = time.perf_counter()

    def after(module, inputs, out):
        sync()
        seconds = time.perf_counter() - starts[module]
        kernel = module.kernel_size[0]
        kind = 'stem 3x3' if module.in_channels == 3 else \
            f'{kernel}x{kernel}' + (' grouped' if module.groups > 1 else '')
        flop = 2 * out.numel() * kernel * kernel * \
            module.in_channels // module.groups
        total = totals.setdefault(kind, [0., 0.])
        total[0] += seconds
        total[1] += flop

    convs = [m for m in model.modules() if isinstance(m, FusedConv2d)]
    hooks = [h for m in convs for h in (m.register_forward_pre_hook(before),
                                        m.register_forward_hook(after))]
    with torch.inference_mode():
        model(x)
        totals.clear()
        start = time.perf_counter()
        for _ in range(reps):
            model(x)
        whole = (time.perf_counter() - start) / reps
    for hook in hooks:
        hook.remove()
    lines = [f'mmregnet deploy, {arch} eval bs{batch}: {whole * 1e3:.1f} ms '
             'per forward']
    for kind, (seconds, flop) in sorted(totals.items(),
                                        key=lambda kv: -kv[1][0]):
        lines.append(f'  {kind:12s} {seconds / reps * 1e3:8.1f} ms '
                     f'{seconds / reps / whole:6.1%} '
                     f'{flop / seconds / 1e9:7.1f} GFLOP/s')
    rest = whole - sum(t[0] for t in totals.values()) / reps
    lines.append(f'  {"other":12s} {rest * 1e3:8.1f} ms {rest / whole:6.1%}'
                 '  (SE, pooling, head, layout changes)')
    return lines


def best(cases: List[Case], impls, stat: str,
         modes=None) -> Optional[Case]:
    pool = [
        c for c in cases if c.impl in impls and (modes is None
                                                 or c.mode in modes)
    ]
    return min(pool, key=lambda c: c.stat(stat)) if pool else None


def summarise(cases: List[Case], peak: float,
              stat: str = 'median') -> List[str]:
    """A table of the cases of one workload (each case's ``stat``, median
    or min, over the rounds) and the speed-ups of mmregnet's modes over the
    peers' (peer time / mmregnet time: > 1 is faster, see
    :meth:`Case.speedup_over`)."""
    lines = [
        f'{"impl":12s} {"mode":15s} {stat + " ms":>10s} {"min-max ms":>17s} '
        f'{"img/s":>8s} {"GFLOP/s":>8s} {"% peak":>7s}'
    ]
    for c in sorted(cases, key=lambda c: c.stat(stat)):
        batch = int(c.workload.split('bs')[1])
        time_s = c.stat(stat)
        lines.append(
            f'{c.impl:12s} {c.mode:15s} {time_s * 1e3:10.1f} '
            f'{min(c.samples) * 1e3:8.1f}-{max(c.samples) * 1e3:8.1f} '
            f'{batch / time_s:8.1f} {c.gflop / time_s:8.1f} '
            f'{100 * c.gflop / time_s / peak:6.1f}%')
    peers = [i for i in IMPLS[1:] if any(c.impl == i for c in cases)]
    ours = [c for c in cases if c.impl == 'mmregnet']
    eager = ('eager', 'channels_last')
    references = [('fastest eager peer', best(cases, peers, stat, eager)),
                  ('best peer', best(cases, peers, stat))]
    references += [(f'best {p}', best(cases, [p], stat)) for p in peers]
    for label, ref in references:
        if ref is None:
            continue
        ratios = ', '.join(
            f'{c.mode} {c.speedup_over(ref, stat):.2f}x' for c in ours)
        lines.append(f'vs {label} ({ref.impl} {ref.mode}, '
                     f'{ref.stat(stat) * 1e3:.1f} ms): {ratios}')
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark mmregnet against its peers',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--archs', nargs='+',
                        default=['regnetx_400mf', 'regnetx_3.2gf'],
                        choices=sorted(ARCH_SETTINGS), metavar='ARCH')
    parser.add_argument('--impls', nargs='+', default=list(IMPLS),
                        choices=IMPLS)
    parser.add_argument('--input-size', type=int, default=224)
    parser.add_argument('--batch-sizes', type=int, nargs='+',
                        default=[1, 16], help='eval batch sizes')
    parser.add_argument('--train-batch-size', type=int, default=16,
                        help='0 skips the training step and its memory')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--dtype', default='float32',
                        choices=['float32', 'bfloat16', 'float16'],
                        help='eval: model and input; training: autocast')
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads; None: torch\'s, all cores')
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--min-time', type=float, default=0.2,
                        help='seconds per timed sample (repeats short runs)')
    parser.add_argument('--timer', default='wall', choices=['wall', 'cpu'])
    parser.add_argument('--stat', default='median', choices=['median', 'min'],
                        help='statistic of the rounds for the table and the '
                        'ratios (min: the least disturbed round, for a busy '
                        'machine)')
    parser.add_argument('--compile-impls', nargs='*',
                        default=['mmregnet', 'timm'], choices=IMPLS,
                        help='implementations also run with torch.compile '
                        '(compiling takes ~0.5-1 min per model and batch '
                        'size on 2 cores); none: no compiled modes')
    parser.add_argument('--compile-train', action='store_true',
                        help='also time the training step of the '
                        '--compile-impls compiled (minutes per model)')
    parser.add_argument('--int8', action=argparse.BooleanOptionalAction,
                        default=True,
                        help='mmregnet\'s int8 mode (CPU, float32: '
                        'quantize_int8 calibrated on random data, '
                        'onnxruntime); --no-int8 skips it')
    parser.add_argument('--profile', action='store_true',
                        help='also break the deployed mmregnet\'s eval time '
                        'down by convolution kind (1x1, grouped 3x3, stem)')
    parser.add_argument('--peak-gflops', type=float, default=None,
                        help='the machine\'s peak GFLOP/s, if known; None: '
                        'measure the GEMM throughput')
    parser.add_argument('--json', help='write all results to this file')
    args = parser.parse_args(argv)
    args.device = torch.device(args.device)
    args.dtype = getattr(torch, args.dtype)
    return args


def eval_modes(impl: str, args) -> List[str]:
    """The peers' eager, channels_last and compile modes; mmregnet's deploy
    and deploy+compile instead of compile (with inductor freezing the
    compiled graphs are the same, BatchNorm folded either way)."""
    compiled = impl in args.compile_impls
    if impl == 'mmregnet':
        int8 = args.int8 and args.device.type == 'cpu' and \
            args.dtype == torch.float32
        return list(TRAIN_MODES) + ['deploy'] + (['deploy+compile']
                                                 if compiled else []) + \
            (['int8'] if int8 else [])
    return list(TRAIN_MODES) + (['compile'] if compiled else [])


def run_arch(arch: str, args, timer: Timer, peak: float):
    results, report = [], []

    def record(cases):
        cases = [c for c in cases if c is not None]
        measure(cases, timer, args.rounds, args.min_time)
        head = (f'{arch} {args.input_size}x{args.input_size} '
                f'{cases[0].workload}')
        lines = ['', head, '-' * len(head)] + summarise(
            cases, peak, args.stat)
        print('\n'.join(lines), flush=True)
        report.extend(lines)
        results.extend(
            dict(arch=arch, impl=c.impl, mode=c.mode, workload=c.workload,
                 median_s=c.median, samples_s=c.samples, reps=c.reps,
                 gflop=c.gflop) for c in cases)

    for batch in args.batch_sizes:
        record([
            eval_case(impl, arch, mode, batch, args) for impl in args.impls
            for mode in eval_modes(impl, args)
        ])
    if args.profile and 'mmregnet' in args.impls:
        lines = ['', f'{arch}: deployed mmregnet by convolution kind']
        for batch in args.batch_sizes:
            lines += conv_profile(arch, batch, args)
        print('\n'.join(lines), flush=True)
        report.extend(lines)
    if args.train_batch_size:
        batch = args.train_batch_size
        record([
            train_case(impl, arch, mode, batch, args)
            for impl in args.impls for mode in TRAIN_MODES +
            (('compile', ) if args.compile_train
             and impl in args.compile_impls else ())
        ])
        lines = ['', f'{arch} peak training-step memory, bs{batch} (MiB)']
        variants = [(impl, mode, False) for impl in args.impls
                    for mode in TRAIN_MODES]
        if 'mmregnet' in args.impls:
            variants += [('mmregnet', mode, True) for mode in TRAIN_MODES]
        plain = {}
        for impl, mode, with_cp in variants:
            run = train_step(impl, arch, mode, batch, args, with_cp)
            if run is None:
                continue
            mib = peak_step_memory(run, args.device) / 2**20
            label = f'{impl} {mode}' + (' with_cp' if with_cp else '')
            line = f'{label:36s} {mib:9.1f}'
            if with_cp:
                line += f'   {1 - mib / plain[mode]:.0%} less than without'
            elif impl == 'mmregnet':
                plain[mode] = mib
            lines.append(line)
            results.append(
                dict(arch=arch, impl=impl, mode=mode, with_cp=with_cp,
                     workload=f'train memory bs{batch}', peak_mib=mib))
        print('\n'.join(lines), flush=True)
        report.extend(lines)
    return results, report


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    timer = Timer(args.timer, args.device)
    gemm = None
    if not args.peak_gflops:
        slow = args.device.type == 'cpu' and args.dtype == torch.float16
        print(f'measuring the {str(args.dtype)[6:]} GEMM peak (2048 x 2048 '
              'products; --peak-gflops skips it)' +
              (': minutes, CPUs have no fast float16 kernels' if slow else ''),
              file=sys.stderr, flush=True)
        gemm = gemm_gflops(args.device, args.dtype, timer)
    peak = args.peak_gflops or gemm
    env = dict(
        environment(args.device, args.dtype, args.input_size, args.timer,
                    args.stat),
        gemm_gflops=gemm,
        peak_gflops=peak)
    print(json.dumps(env), flush=True)
    results, report = [], []
    with torch._inductor.config.patch(freezing=True):
        for arch in args.archs:
            arch_results, arch_report = run_arch(arch, args, timer, peak)
            results += arch_results
            report += arch_report
    env['load_average_end'] = os.getloadavg()
    print('\n'.join(['', '=' * 30, json.dumps(env)] + report))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(environment=env, results=results), f, indent=1)


if __name__ == '__main__':
    main()
