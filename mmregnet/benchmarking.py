"""The measuring rules that mmregnet's benchmarks share
(``tools/analysis_tools/benchmark*.py``, ``zoo_benchmark.py``).

- Timing: :func:`measure` warms every case up, calibrates its repetitions
  to ``min_time`` seconds per sample, runs one untimed round of all cases,
  then times them interleaved over rounds with a rotating order;
  :class:`Case` reports the median over rounds and ratios paired per round
  (:meth:`Case.speedup_over`), so that a slow phase of a shared machine,
  which hits every case of a round, cancels out.
- The scale: the throughput of an ``n x n`` matrix product in the
  measured precision, the CPU's practical peak: :func:`gemm_gflops`, or
  :func:`gemm_case` to time it among the cases and pair it per round.
- The machine: :func:`cpu_name`, :func:`environment`, and
  :func:`precision_support`, which precisions this CPU computes natively.
- The models: :class:`Logits` gives every implementation (mmregnet's and
  mmpretrain's ``ImageClassifier``, timm's and torchvision's RegNets) a
  ``forward(x) -> logits``; :func:`prepare` applies a mode (``deploy``,
  ``channels_last``, ``compile``).

Torch-level only: the peers (mmpretrain, timm, torchvision) and the deploy
runtime are imported where a function needs them.
"""
import contextlib
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .design import stage_specs

#: the precisions mmregnet deploys on CPU: the float model, its bf16 plan
#: (``switch_to_deploy`` in bfloat16) and its int8 artifact (onnxruntime)
PRECISIONS = ('fp32', 'bf16', 'int8')


def timm_name(arch: str) -> str:
    """``regnetx_400mf`` -> ``regnetx_004``, ``regnety_3.2gf`` ->
    ``regnety_032`` (timm counts hundreds of MF)."""
    family, size = arch.split('_')
    hundreds = float(size[:-2]) * (10 if size.endswith('gf') else 0.01)
    return f'{family}_{round(hundreds):03d}'


def torchvision_name(arch: str) -> str:
    """``regnetx_3.2gf`` -> ``regnet_x_3_2gf``, ``regnetx_8.0gf`` ->
    ``regnet_x_8gf``."""
    family, size = arch.split('_')
    size = size.replace('.0', '').replace('.', '_')
    return f'regnet_{family[-1]}_{size}'


class Logits(nn.Module):
    """``forward(x) -> logits`` for every implementation.
    Shapes: (N, 3, H, W) -> (N, 1000)."""

    def __init__(self, model: nn.Module, openmmlab: bool):
        super().__init__()
        self.model = model
        self.openmmlab = openmmlab

    def forward(self, x):
        if self.openmmlab:
            return self.model(x, mode='tensor')
        return self.model(x)


def build(impl: str, arch: str, with_cp: bool = False) -> Optional[Logits]:
    """An ImageNet classifier of ``impl`` for ``arch``; None if ``impl``
    has no such arch."""
    if impl in ('mmregnet', 'mmpretrain'):
        from mmpretrain.models.backbones import RegNet as MMPretrainRegNet
        from mmpretrain.registry import MODELS
        if impl == 'mmpretrain' and \
                arch not in MMPretrainRegNet.arch_settings:
            return None
        backbone = dict(
            type='mmregnet.RegNet' if impl == 'mmregnet' else 'RegNet',
            arch=arch,
            with_cp=with_cp)
        model = MODELS.build(
            dict(
                type='ImageClassifier',
                backbone=backbone,
                neck=dict(type='GlobalAveragePooling'),
                head=dict(
                    type='LinearClsHead',
                    num_classes=1000,
                    in_channels=stage_specs(arch)[-1].width)))
        return Logits(model, openmmlab=True)
    if impl == 'timm':
        import timm
        name = timm_name(arch)
        return Logits(timm.create_model(name), openmmlab=False) \
            if name in timm.list_models() else None
    import torchvision
    name = torchvision_name(arch)
    if name not in torchvision.models.list_models():
        return None
    return Logits(torchvision.models.get_model(name), openmmlab=False)


@dataclass
class Case:
    impl: str
    mode: str
    workload: str
    run: Callable = field(repr=False)
    gflop: float = 0.0
    samples: List[float] = field(default_factory=list)
    reps: int = 1

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def stat(self, kind: str) -> float:
        return min(self.samples) if kind == 'min' else self.median

    def speedup_over(self, ref: 'Case', kind: str) -> float:
        """``ref``'s time / this case's time (> 1: this one is faster).
        ``median``: the median of the per-round ratios, each from two
        samples timed in the same round, so that a slow phase of the
        machine, which hits both, cancels out; ``min``: ratio of minima."""
        if kind == 'min':
            return min(ref.samples) / min(self.samples)
        return statistics.median(
            r / s for r, s in zip(ref.samples, self.samples))


class Timer:
    """Wall clock (``wall``) or this process's CPU time (``cpu``, robust to
    other processes on the machine, meaningful with ``--threads 1``);
    synchronises CUDA."""

    def __init__(self, kind: str, device: torch.device):
        self.clock = time.perf_counter if kind == 'wall' else \
            time.process_time
        self.cuda = device.type == 'cuda'

    def __call__(self, fn: Callable, reps: int) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        start = self.clock()
        for _ in range(reps):
            fn()
        if self.cuda:
            torch.cuda.synchronize()
        return (self.clock() - start) / reps


def prepare(model: Logits, mode: str, device, dtype, train: bool):
    """Move ``model`` to ``device``/``dtype`` and apply ``mode``; returns
    (model, memory format of its input)."""
    from .deploy import switch_to_deploy
    model = model.to(device, dtype).train(train)
    fmt = torch.contiguous_format
    if mode.startswith('deploy'):
        switch_to_deploy(model)
    if mode in ('channels_last', 'compile', 'deploy+compile'):
        fmt = torch.channels_last
        model = model.to(memory_format=fmt)
    if mode.endswith('compile'):
        model = torch.compile(model, dynamic=False)
    return model, fmt


def int8_model(model: Logits, input_size: int) -> Callable:
    """``model`` quantized by :func:`mmregnet.deploy.quantize_int8`,
    calibrated on random batches of ``input_size`` images: for speed, not
    for accuracy."""
    from .deploy import quantize_int8
    gen = torch.Generator().manual_seed(0)
    calib = [torch.randn(8, 3, input_size, input_size,
                         generator=gen) for _ in range(2)]
    return quantize_int8(model.model.eval(), calib)


def training_step(model, x, target, optimizer, autocast) -> Callable:
    """A step function: forward under ``autocast``, cross-entropy,
    backward, ``optimizer`` step, gradients set to None."""

    def run():
        with autocast:
            loss = F.cross_entropy(model(x), target)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return run


def peak_step_memory(run: Callable, device: torch.device) -> int:
    """Peak bytes allocated during ``run()`` above those held before it."""
    run()  # allocate optimizer state first
    if device.type == 'cuda':
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        run()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
        run()
    live = peak = 0
    events = [e for e in p.profiler.kineto_results.events()
              if e.name() == '[memory]']
    for event in sorted(events, key=lambda e: e.start_ns()):
        live += event.nbytes()
        peak = max(peak, live)
    return peak


def measure(cases: List[Case], timer: Timer, rounds: int, min_time: float):
    """Warm up (compiles), calibrate repetitions, run one untimed round
    of all cases (the first pass after switching between models is slower
    for every one of them), then time the cases interleaved over
    ``rounds`` rounds with a rotating order."""
    for case in cases:
        case.run()
        once = timer(case.run, 1)
        case.reps = max(1, int(min_time / max(once, 1e-6)))
    for case in cases:
        timer(case.run, case.reps)
    for r in range(rounds):
        shift = r % len(cases)
        for case in cases[shift:] + cases[:shift]:
            case.samples.append(timer(case.run, case.reps))


def gemm_gflops(device, dtype, timer: Timer, n: int = 2048) -> float:
    """Throughput of an ``n x n`` matrix product: the practical peak."""
    run = matmul(device, dtype, n)
    best = min(timer(run, 2) for _ in range(4))
    return 2 * n**3 / best / 1e9


def environment(device: torch.device, dtype: torch.dtype, input_size,
                timer: str, stat: str) -> Dict:
    """The facts a measurement depends on: the machine's, and the
    measurement's ``device``, ``dtype``, ``input_size``, ``timer`` and
    ``stat``."""
    env = dict(
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        nproc=os.cpu_count(),
        cpu=cpu_name(),
        load_average=os.getloadavg(),
        device=str(device),
        dtype=str(dtype).replace('torch.', ''),
        input_size=input_size,
        timer=timer,
        stat=stat)
    if device.type == 'cuda':
        env['gpu'] = torch.cuda.get_device_name()
    return env


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``; elsewhere the platform's
    processor string)."""
    cpu = platform.processor() or 'unknown'
    with contextlib.suppress(OSError):
        with open('/proc/cpuinfo') as f:
            cpu = next((line.split(':', 1)[1].strip() for line in f
                        if line.startswith('model name')), cpu)
    return cpu


def precision_support() -> Dict[str, Optional[str]]:
    """For each of :data:`PRECISIONS`: None where this CPU runs it, else
    why not (one line)."""
    from .engine import native_bf16_feature
    missing = [name for name in ('onnx', 'onnxruntime') if not find_spec(name)]
    return dict(
        fp32=None,
        bf16=None if native_bf16_feature() else
        (f'this {torch.backends.cpu.get_cpu_capability()} CPU has no native '
         'bf16 (avx512_bf16 or amx_bf16): emulated bf16 runs slower than '
         'fp32'),
        int8=f'{" and ".join(missing)} not installed (pip install '
        '"mmregnet[int8]")' if missing else None)


def matmul(device, dtype, n: int = 2048) -> Callable:
    """A product of two random ``n x n`` matrices (2 n^3 FLOP)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    return lambda: torch.mm(a, b)


def int8_matmul(n: int = 2048) -> Callable:
    """onnxruntime's ``MatMulInteger`` of two random ``n x n`` matrices
    (uint8 x int8 -> int32), the kernel family of the int8 artifacts."""
    import numpy as np
    import onnxruntime
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node('MatMulInteger', ['a', 'b'], ['c'])], 'gemm',
        [helper.make_tensor_value_info('a', TensorProto.UINT8, [n, n]),
         helper.make_tensor_value_info('b', TensorProto.INT8, [n, n])],
        [helper.make_tensor_value_info('c', TensorProto.INT32, [n, n])])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid('', 13)], ir_version=8)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # as Int8Model
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options,
        providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(0)
    feed = dict(a=rng.integers(0, 256, (n, n), dtype=np.uint8),
                b=rng.integers(-64, 64, (n, n), dtype=np.int8))
    return lambda: session.run(None, feed)


def gemm_case(precision: str, n: int = 2048) -> Case:
    """The practical peak of ``precision`` (one of :data:`PRECISIONS`) on
    the CPU as a :class:`Case` to time among others (its rate per round
    pairs with theirs): an ``n x n`` matrix product in float32 or bfloat16
    (torch), or in int8 (onnxruntime)."""
    run = int8_matmul(n) if precision == 'int8' else matmul(
        torch.device('cpu'),
        torch.float32 if precision == 'fp32' else torch.bfloat16, n)
    return Case('gemm', precision, f'{n}x{n}', run, gflop=2 * n**3 / 1e9)
