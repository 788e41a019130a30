"""Measured against planned: the peak memory of real CPU training steps
next to what mmregnet.engine.memory_plan predicts for them.

Each case runs in a fresh process: a RegNet classifier (backbone, average
pool, linear head, cross-entropy) and SGD with momentum are built, the
resident set size (RSS) is read, two training steps run, and the peak RSS
of the process (``VmHWM`` of ``/proc/self/status``; not ``getrusage``, whose
``ru_maxrss`` a process started by vfork inherits from its parent's peak)
minus that baseline is the measured memory of a step: gradients, momentum
and activations (the weights are in the baseline). glibc's malloc is
pinned to mmap every block over 64 KiB (``MALLOC_MMAP_THRESHOLD_``) so that
freed tensors leave the RSS at once.

    python tools/analysis_tools/benchmark_memory.py
    python tools/analysis_tools/benchmark_memory.py \\
        --cases regnety_400mf:16:224:cp regnetx_200mf:32:160
"""
import argparse
import json
import os
import subprocess
import sys

DEFAULT_CASES = [
    'regnetx_200mf:32:160', 'regnetx_200mf:32:160:cp',
    'regnetx_400mf:16:224', 'regnetx_400mf:16:224:cp',
    'regnety_400mf:8:224', 'regnety_400mf:8:224:cp', 'regnety_400mf:32:160',
    'regnety_400mf:32:160:cp', 'regnety_800mf:16:192',
    'regnety_800mf:16:192:cp', 'regnety_1.6gf:8:224',
]
MIB = 2**20


def parse_case(text: str) -> dict:
    arch, batch, size, *cp = text.split(':')
    if cp not in ([], ['cp']):
        raise argparse.ArgumentTypeError(
            f'a case is ARCH:BATCH:SIZE[:cp], got {text!r}')
    return dict(arch=arch, batch=int(batch), size=int(size),
                with_cp=bool(cp))


def _rss() -> int:
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def _peak_rss() -> int:
    with open('/proc/self/status') as status:
        line, = (line for line in status if line.startswith('VmHWM:'))
    return int(line.split()[1]) * 1024  # kB


def measure(arch: str, batch: int, size: int, with_cp: bool) -> int:
    """Peak bytes of two training steps above the built model (run in a
    fresh process, see the module docstring)."""
    import torch
    from torch import nn

    from mmregnet.models import RegNet
    torch.manual_seed(0)
    backbone = RegNet(arch, with_cp=with_cp)
    head = nn.Linear(backbone.stage_widths[-1], 1000)
    optimizer = torch.optim.SGD(
        list(backbone.parameters()) + list(head.parameters()), lr=0.01,
        momentum=0.9, nesterov=True)
    backbone.train()
    baseline = _rss()
    for _ in range(2):
        images = torch.randn(batch, 3, size, size)
        labels = torch.randint(0, 1000, (batch, ))
        features = backbone(images)[-1].mean((2, 3))
        loss = nn.functional.cross_entropy(head(features), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        del images, features, loss
    return _peak_rss() - baseline


def measure_in_fresh_process(case: str) -> int:
    """:func:`measure` of ``ARCH:BATCH:SIZE[:cp]`` in a fresh interpreter
    with malloc's mmap threshold pinned."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
    out = subprocess.run([sys.executable, __file__, '--one', case], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def planned(arch: str, batch: int, size: int, with_cp: bool) -> int:
    """Gradients, momentum and activations of the plan, in bytes."""
    from mmregnet.design import stage_specs
    from mmregnet.engine.memory_plan import TrainingSetup, plan
    setup = TrainingSetup(stage_specs(arch), batch, input_size=size,
                          with_cp=with_cp)
    one = plan(setup, 'FSDP', 1)
    return one.gradients + one.optimizer + one.activations


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--cases', nargs='+', type=parse_case,
                        default=[parse_case(c) for c in DEFAULT_CASES],
                        help='ARCH:BATCH:SIZE[:cp] (cp: with_cp)')
    parser.add_argument('--one', type=parse_case, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(**args.one)))
        return
    errors = []
    print('| case | planned MiB | measured MiB | error |')
    print('|---|---:|---:|---:|')
    for case in args.cases:
        text = '{arch}:{batch}:{size}'.format(**case) + ':cp' * case[
            'with_cp']
        measured = measure_in_fresh_process(text)
        plan_bytes = planned(**case)
        errors.append(plan_bytes / measured - 1)
        print(f'| {text} | {plan_bytes / MIB:.0f} | {measured / MIB:.0f} '
              f'| {errors[-1]:+.1%} |')
    print(f'largest error: {max(errors, key=abs):+.1%}')


if __name__ == '__main__':
    main()
