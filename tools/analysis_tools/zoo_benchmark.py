"""Measure the model zoo's speed on this CPU beside its published accuracy.

    python tools/analysis_tools/zoo_benchmark.py --out DIR
        [--models PATTERN ...] [--precisions fp32 bf16 int8]
        [--batch-sizes 1 16] [--input-size N] [--rounds 5]
        [--min-time 0.2] [--threads N] [--gemm-size 2048]

Every selected classification entry of the model index (default: those of
the paper's 24 archs with a published top-1 at 224 px; larger ones, such as
the SWAG weights at 384 px or Y-128GF, by ``--models``) is built with
random weights (speed does not depend on them) and run as mmregnet deploys
it: ``switch_to_deploy`` (BatchNorm
folded, fused oneDNN kernels) in float32 (``fp32``) or bfloat16 (``bf16``,
on CPUs with native bf16), or its int8 artifact (``quantize_int8``,
calibrated on random batches, onnxruntime). Entries whose networks are the
same (arch, width rounding, head, input size: e.g. a pycls weight and the
OpenMMLab config of its arch) are timed once. The timing rules are
:mod:`mmregnet.benchmarking`'s: per network, all its cases (precision x
batch) and one GEMM per precision (``n x n`` matrix product, the
precision's practical peak) are warmed up, then timed interleaved over
``--rounds`` rounds; a case's time is its median, its share of the GEMM
rate the median of per-round ratios.

Writes ``DIR/results.csv`` (one row per entry x precision x batch; rows of
other CPUs or versions are kept), ``DIR/pareto.png`` and ``.svg``
(published top-1 against measured ms/image per precision, batch 1 or the
smallest batch) and ``DIR/README.md`` (the Pareto-optimal models per
precision and latency budget). Rerun with the same DIR to resume: rows
already measured on this CPU with these versions and settings are kept,
not measured again.
"""
import argparse
import csv
import fnmatch
import io
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch
from mmengine.config import Config

from mmregnet import __version__ as mmregnet_version
from mmregnet.apis.derive import backbone_arch, counting_kwargs
from mmregnet.benchmarking import (PRECISIONS, Case, Logits, Timer, cpu_name,
                                   gemm_case, int8_model, measure,
                                   precision_support, prepare)
from mmregnet.design import ARCH_SETTINGS, complexity, stage_specs
from mmregnet.engine import atomic_write
from mmregnet.engine.config import crop_size
from mmregnet.model_index import is_classifier, load_model_index
from mmregnet.zoo import ZooEntry, measured_front, significant, zoo_entry
from mmregnet.zoo_figures import pareto_figure, where

COLUMNS = ('name', 'family', 'publisher', 'weights', 'arch', 'params',
           'gflops', 'input_size', 'top1', 'top5', 'precision', 'batch',
           'ms_per_image', 'images_per_s', 'pct_of_gemm', 'gemm_gflops',
           'rounds', 'threads', 'cpu', 'torch', 'onnxruntime', 'mmregnet')
#: the columns that say where and how a row was measured: a row is reused
#: (resumed) only where all of them match this run's
SETTINGS = ('name', 'input_size', 'precision', 'batch', 'rounds', 'threads',
            'cpu', 'torch', 'onnxruntime', 'mmregnet')
#: latency budgets of DIR/README.md, ms per image: 0.1, 0.2, 0.5, 1, ...
BUDGETS = tuple(m * 10**e for e in range(-1, 7) for m in (1, 2, 5))
DTYPES = dict(fp32=torch.float32, bf16=torch.bfloat16)


class OneLineErrors(argparse.ArgumentParser):
    """An argument parser whose errors are one line."""

    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message}\n')


def parse_args(argv=None):
    parser = OneLineErrors(
        prog='zoo_benchmark.py',
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--out', required=True,
                        help='folder for results.csv, pareto.png/.svg and '
                        'README.md (resumed when it has results)')
    parser.add_argument('--models', nargs='+', default=None,
                        metavar='PATTERN',
                        help='shell-style patterns of index names (default: '
                        'the classifiers of the 24 archs of the paper with a '
                        'published top-1 at 224 px)')
    parser.add_argument('--precisions', nargs='+', default=list(PRECISIONS),
                        choices=PRECISIONS)
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 16])
    parser.add_argument('--input-size', type=int, default=None,
                        help='image side for every entry (default: each '
                        'entry\'s own evaluation crop)')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--min-time', type=float, default=0.2,
                        help='seconds per timed sample (repeats short runs)')
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads (default: torch\'s, all cores)')
    parser.add_argument('--gemm-size', type=int, default=2048,
                        help='side of the matrices whose product measures '
                        'each precision\'s peak')
    args = parser.parse_args(argv)
    for name in ('rounds', 'threads', 'input_size', 'gemm_size'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1, '
                         f'got {value}')
    bad = [b for b in args.batch_sizes if b < 1]
    if bad:
        parser.error(f'--batch-sizes must be at least 1, got {bad[0]}')
    args.precisions = list(dict.fromkeys(args.precisions))
    args.batch_sizes = sorted(set(args.batch_sizes))
    return args


def select(patterns: Optional[List[str]]) -> List[str]:
    """Names of the classification entries matching any of ``patterns``
    (default: those of the paper's 24 archs with a published top-1 at
    224 px); ``ValueError`` naming a pattern that matches none."""
    index = load_model_index()
    if patterns is None:
        entries = [zoo_entry(meta) for meta in index.values()
                   if is_classifier(meta)]
        return sorted(e.name.lower() for e in entries
                      if e.top1 is not None and e.input_size == 224 and
                      e.arch in ARCH_SETTINGS)
    names = []
    for pattern in patterns:
        matched = fnmatch.filter(index, pattern.lower())
        classifiers = [n for n in matched if is_classifier(index[n])]
        if not classifiers:
            what = 'only detectors, which this tool does not time' \
                if matched else 'no index entry'
            raise ValueError(
                f'--models {pattern!r} matches {what}; give patterns of '
                'classifiers, e.g. \'regnetx-400mf*\' '
                '(mmregnet.list_models() lists all names)')
        names += classifiers
    return sorted(set(names))


def check_out(folder: Path) -> None:
    """Create ``folder``; ``ValueError`` if it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / '.zoo_benchmark_probe'
        probe.write_text('')
        probe.unlink()
    except OSError as error:
        raise ValueError(f'--out {str(folder)!r} is not a writable folder '
                         f'({error.strerror or error})') from None


def onnxruntime_version() -> str:
    try:
        import onnxruntime
    except ImportError:
        return ''
    return onnxruntime.__version__


def read_rows(path: Path) -> List[Dict[str, str]]:
    """The rows of an earlier results.csv (none if there is none); a file
    with other columns is a ``ValueError``."""
    if not path.exists():
        return []
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f'{path} has columns {reader.fieldnames}, not '
                             'those of zoo_benchmark.py; move it away or '
                             'give another --out')
        return list(reader)


def write_rows(path: Path, rows: List[Dict]) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS, lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(text.getvalue(), str(path))


class Network:
    """The entries that share one network (the same stages, head and input
    size, e.g. a pycls weight and the OpenMMLab config of its arch): it is
    built and timed once for all of them."""

    def __init__(self, meta, size: Optional[int]):
        self.cfg = Config.fromfile(meta.config)
        self.name = meta.name
        self.size = size or eval_input_size(self.cfg)
        self.entries: List[ZooEntry] = []
        rounding = self.cfg.model.backbone.get('width_rounding', 'pycls')
        self.stage_specs = stage_specs(
            backbone_arch(self.cfg), rounding=rounding)
        self.counting = counting_kwargs(self.cfg)
        self.key = repr((self.stage_specs, sorted(self.counting.items()),
                         self.cfg.model.backbone.get('se_ratio'),
                         self.size))

    @property
    def gflop_per_image(self) -> float:
        """Analytic forward GFLOP (2 x multiply-adds) at this size."""
        return 2e-9 * complexity(self.stage_specs, input_size=self.size,
                                 **self.counting).flops

    def model(self, precision: str):
        """(forward callable, input memory format) of this network with
        random weights, deployed in ``precision``."""
        from mmengine.registry import DefaultScope
        from mmpretrain.registry import MODELS
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            logits = Logits(MODELS.build(self.cfg.model), openmmlab=True)
        if precision == 'int8':
            return int8_model(logits, self.size), torch.contiguous_format
        return prepare(logits, 'deploy', torch.device('cpu'),
                       DTYPES[precision], train=False)

    def cases(self, precisions, batch_sizes) -> List[Case]:
        cases = []
        for precision in precisions:
            model, fmt = self.model(precision)
            dtype = DTYPES.get(precision, torch.float32)
            for batch in batch_sizes:
                x = torch.randn(batch, 3, self.size, self.size,
                                dtype=dtype).contiguous(memory_format=fmt)
                cases.append(Case(
                    self.name, precision, f'eval bs{batch}',
                    _forward(model, x),
                    gflop=batch * self.gflop_per_image))
        return cases


def _forward(model, x):

    def run():
        with torch.inference_mode():
            model(x)

    return run


def eval_input_size(cfg: Config) -> int:
    """The side of the images a classification config evaluates on: its
    test pipeline's square crop (224 where none)."""
    return crop_size(cfg.get('test_pipeline') or []) or 224


def networks(names: List[str], size: Optional[int]) -> List[Network]:
    """The networks of the entries ``names``, cheapest first."""
    index = load_model_index()
    by_key: Dict[str, Network] = {}
    for name in names:
        meta = index[name]
        network = Network(meta, size)
        network = by_key.setdefault(network.key, network)
        network.entries.append(zoo_entry(meta))
    return sorted(by_key.values(), key=lambda n: n.gflop_per_image)


def row(entry: ZooEntry, case: Case, gemm: Case, env: dict,
        network: Network) -> Dict:
    """One results.csv row of ``entry`` from its network's ``case``
    (GFLOPs: multiply-adds at the measured input size)."""
    batch = batch_of(case)
    share = case.gflop / gemm.gflop * case.speedup_over(gemm, 'median')
    return dict(
        env, name=entry.name, family=entry.family,
        publisher=entry.publisher, weights=entry.weights, arch=entry.arch,
        params=entry.params or '',
        gflops=f'{network.gflop_per_image / 2:.3f}',
        input_size=network.size, top1=_blank(entry.top1),
        top5=_blank(entry.top5),
        precision=case.mode, batch=batch,
        ms_per_image=significant(case.median / batch * 1e3),
        images_per_s=significant(batch / case.median),
        pct_of_gemm=f'{100 * share:.1f}',
        gemm_gflops=f'{gemm.gflop / gemm.median:.1f}')


def batch_of(case: Case) -> int:
    """``eval bs16`` -> 16."""
    return int(case.workload.split('bs')[1])


def _blank(value) -> str:
    return '' if value is None else f'{value:g}'


def _key(row: Dict) -> tuple:
    return tuple(str(row[c]) for c in SETTINGS)


class Progress:
    """One status line on stderr: networks done, elapsed time and an ETA.
    The ETA fits the seconds of the networks done so far as
    ``a + b * work`` (``work``: GFLOP per pass; a: building, quantizing and
    the GEMM, the same for every network) and sums it over those left."""

    def __init__(self, work: List[float]):
        self.work, self.seconds = work, []
        self.start = self.last = time.monotonic()
        self.tty = sys.stderr.isatty()

    def finished(self) -> None:
        now = time.monotonic()
        self.seconds.append(now - self.last)
        self.last = now

    def eta(self) -> Optional[float]:
        done = len(self.seconds)
        if not done:
            return None
        work = self.work[:done]
        mean_w, mean_s = sum(work) / done, sum(self.seconds) / done
        spread = sum((w - mean_w)**2 for w in work)
        slope = max(0.0, sum((w - mean_w) * (s - mean_s) for w, s in zip(
            work, self.seconds)) / spread) if spread else 0.0
        fixed = max(0.0, mean_s - slope * mean_w)
        return sum(fixed + slope * w for w in self.work[done:])

    def show(self, label: str) -> None:
        done, total = len(self.seconds), len(self.work)
        eta = self.eta()
        width = 30
        filled = width * done // max(total, 1)
        line = (f'[{"#" * filled}{"." * (width - filled)}] {done}/{total} '
                f'networks, {(time.monotonic() - self.start) / 60:.1f} min, '
                f'ETA {"?" if eta is None else f"{eta / 60:.1f} min"}  '
                f'{label}')
        print(('\r' + line.ljust(110)) if self.tty else line,
              end='' if self.tty else '\n', file=sys.stderr, flush=True)


def summary(rows: List[Dict], precisions: List[str], env: dict) -> str:
    """DIR/README.md: per precision, the most accurate model within each
    latency budget (the Pareto front read by budget)."""
    lines = ['# Model zoo on this CPU', '',
             f'Measured by `tools/analysis_tools/zoo_benchmark.py` on '
             f'{where(env)}, mmregnet {env["mmregnet"]}. Accuracy: the '
             'publishers\' ImageNet top-1 (%), not measured here. '
             'Latency: ms per image at the smallest batch measured. '
             'Figure: `pareto.png`.', '']
    for precision in precisions:
        batch, points, front = measured_front(rows, precision)
        lines += [f'## {precision}', '']
        if not front:
            lines += ['No measured entry with a published top-1.', '']
            continue
        measured = {r['name']: r for r in rows if r['precision'] == precision
                    and int(r['batch']) == batch}
        lines += [f'Batch {batch}. Each row: the most accurate model within '
                  'the budget (budgets that add no model are left out).', '',
                  '| budget (ms/image) | most accurate | top-1 | ms/image | '
                  'images/s | GFLOPs |', '| --- | --- | ---: | ---: | ---: | '
                  '---: |']
        previous = None
        for budget in BUDGETS:
            fits = [n for n in front if points[n][0] <= budget]
            best = max(fits, key=lambda n: points[n][1]) if fits else None
            if best is None or best == previous:
                continue
            r = measured[best]
            lines.append(
                f'| <= {budget:g} | {best} | {r["top1"]} | '
                f'{r["ms_per_image"]} | {r["images_per_s"]} | '
                f'{r["gflops"]} |')
            previous = best
            if best == front[-1]:
                break
        lines += ['', 'Pareto front (no other model is both faster and more '
                  'accurate): ' + ', '.join(front), '']
    return '\n'.join(lines)


def measure_network(network: Network, wanted: List[tuple], env: Dict,
                    timer: Timer, args) -> List[Dict]:
    """Time the ``wanted`` (precision, batch) cases of ``network`` with a
    GEMM per precision, interleaved; the rows of all its entries."""
    precisions = list(dict.fromkeys(p for p, _ in wanted))
    cases = [c for c in network.cases(precisions,
                                      sorted({b for _, b in wanted}))
             if (c.mode, batch_of(c)) in wanted]
    gemms = {p: gemm_case(p, args.gemm_size) for p in precisions}
    measure(cases + list(gemms.values()), timer, args.rounds, args.min_time)
    return [row(e, c, gemms[c.mode], env, network)
            for e in network.entries for c in cases]


def run(args) -> List[Dict]:
    out = Path(args.out)
    names = select(args.models)
    check_out(out)
    support = precision_support()
    precisions = [p for p in args.precisions if support[p] is None]
    for precision in args.precisions:
        if support[precision]:
            print(f'skipping {precision}: {support[precision]}',
                  file=sys.stderr)
    if not precisions:
        raise ValueError('none of --precisions '
                         f'{" ".join(args.precisions)} runs on this CPU')
    if args.threads:
        torch.set_num_threads(args.threads)
    env = dict(cpu=cpu_name(), torch=torch.__version__,
               onnxruntime=onnxruntime_version(), mmregnet=mmregnet_version,
               threads=torch.get_num_threads(), rounds=args.rounds)
    path = out / 'results.csv'
    rows = read_rows(path)
    done = {_key(r) for r in rows}
    todo, selected = [], networks(names, args.input_size)
    for network in selected:
        wanted = [(p, b) for p in precisions for b in args.batch_sizes
                  if any(_key(dict(env, name=e.name, input_size=network.size,
                                   precision=p, batch=b)) not in done
                         for e in network.entries)]
        if wanted:
            todo.append((network, wanted))
    resumed = len(selected) - len(todo)
    if resumed:
        print(f'resuming {path}: {resumed} networks already measured',
              file=sys.stderr)
    timer = Timer('wall', torch.device('cpu'))
    progress = Progress([n.gflop_per_image * sum(args.batch_sizes)
                         for n, _ in todo])
    for network, wanted in todo:
        progress.show(network.name)
        fresh = measure_network(network, wanted, env, timer, args)
        keys = {_key(r) for r in fresh}
        rows = [r for r in rows if _key(r) not in keys] + fresh
        write_rows(path, rows)
        progress.finished()
    progress.show('done')
    print(file=sys.stderr)
    mine = [r for r in rows if r['name'] in names and
            all(str(r[c]) == str(env[c]) for c in env)
            and r['precision'] in precisions
            and int(r['batch']) in args.batch_sizes
            and (args.input_size is None
                 or int(r['input_size']) == args.input_size)]
    pareto_figure(mine, str(out / 'pareto'))
    atomic_write(summary(mine, precisions, env), str(out / 'README.md'))
    return mine


def main(argv=None):
    args = parse_args(argv)
    try:
        rows = run(args)
    except ValueError as error:
        sys.exit(f'zoo_benchmark.py: error: {error}')
    print(f'{len(rows)} rows: {os.path.join(args.out, "results.csv")}, '
          'pareto.png, pareto.svg, README.md')


if __name__ == '__main__':
    main()
