"""How much does a short training run's result depend on luck? Train and
test one config over several seeds and CPU numerics variants, and tabulate
each metric (the worst value is what a test floor must stay below).

    python tools/analysis_tools/seed_sweep.py CONFIG --seeds 0 1 2 3 4 \\
        --numerics native avx2 sse41 --work-dir work_dirs/sweep \\
        [--jobs 2] [--metrics coco/bbox_mAP ...] [--cfg-options KEY=VALUE ...]

Each run is ``tools/train.py CONFIG --cfg-options randomness.seed=S`` then
``tools/test.py`` on its last checkpoint, in a subprocess whose environment
selects the numerics: ``native`` (the best kernels of this CPU), ``avx2``
(``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2``), ``avx512``, or
``sse41`` (``ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41``, the
slowest and most different rounding). ``--jobs N`` runs N at once with
``cores / N`` threads each; the thread count changes the rounding too, so it
is recorded with every run. Finished runs are kept in
``WORK_DIR/results.jsonl`` and skipped when the sweep is run again with the
same config and options.
"""
import argparse
import ast
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
NUMERICS = {
    'native': {},
    'avx512': dict(ATEN_CPU_CAPABILITY='avx512',
                   ONEDNN_MAX_CPU_ISA='AVX512_CORE'),
    'avx2': dict(ATEN_CPU_CAPABILITY='avx2', ONEDNN_MAX_CPU_ISA='AVX2'),
    'sse41': dict(ATEN_CPU_CAPABILITY='default', ONEDNN_MAX_CPU_ISA='SSE41'),
}
_LOSS = re.compile(r'Epoch\(train\) .*?\bloss: ([0-9.]+)')


def train_losses(log: str) -> List[float]:
    """The total losses mmengine logged during training, in order."""
    return [float(x) for x in _LOSS.findall(log)]


def _run(args: List[str], env: Dict[str, str], log: Path) -> str:
    with open(log, 'w') as out:
        result = subprocess.run(args, cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
    text = log.read_text()
    if result.returncode != 0:
        raise RuntimeError(f'{" ".join(args[1:3])} failed, see {log}')
    return text


def run_one(config: str, seed: int, numerics: str, threads: int,
            work_dir: Path, cfg_options: List[str]) -> dict:
    """Train + test one (seed, numerics) pair; returns its record."""
    run_dir = work_dir / f'{numerics}-t{threads}' / f'seed{seed}'
    run_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=str(threads),
               **NUMERICS[numerics])
    options = ['--cfg-options', f'randomness.seed={seed}', *cfg_options]
    start = time.time()
    train_log = _run([sys.executable, 'tools/train.py', config, '--work-dir',
                      str(run_dir), *options], env, run_dir / 'train.out')
    train_s = time.time() - start
    last = run_dir / 'last_checkpoint'
    if not last.is_file():
        raise RuntimeError(f'training wrote no checkpoint, see {run_dir}')
    checkpoint = last.read_text().strip()
    test_log = _run([sys.executable, 'tools/test.py', config, checkpoint,
                     '--work-dir', str(run_dir / 'test'), *options], env,
                    run_dir / 'test.out')
    try:
        metrics = ast.literal_eval(test_log.strip().splitlines()[-1])
        losses = train_losses(train_log)
        first_loss, last_loss = losses[0], losses[-1]
    except (ValueError, SyntaxError, IndexError):
        raise RuntimeError(f'no metrics or losses in {run_dir}/test.out or '
                           'train.out') from None
    return dict(config=config, cfg_options=cfg_options, seed=seed,
                numerics=numerics, threads=threads, metrics=metrics,
                first_loss=first_loss, last_loss=last_loss,
                train_s=round(train_s, 1), checkpoint=checkpoint)


def _done(results_file: Path) -> List[dict]:
    if not results_file.is_file():
        return []
    return [json.loads(line) for line in results_file.read_text().splitlines()
            if line.strip()]


def table(records: List[dict], metric: str) -> str:
    """Markdown table: seeds down, numerics variants across, worst last."""
    columns = sorted({(r['numerics'], r['threads']) for r in records})
    seeds = sorted({r['seed'] for r in records})
    value = {(r['seed'], r['numerics'], r['threads']): r['metrics'][metric]
             for r in records if metric in r['metrics']}
    head = [f'{n} ({t} thr)' for n, t in columns]
    lines = [f'| {metric} | ' + ' | '.join(head) + ' |',
             '| --- |' + ' --- |' * len(head)]
    for seed in seeds:
        cells = [value.get((seed, *c)) for c in columns]
        lines.append(f'| seed {seed} | ' + ' | '.join(
            '' if v is None else f'{v:.3f}' for v in cells) + ' |')
    values = list(value.values())
    if values:
        lines.append(f'| worst / median | {min(values):.3f} / '
                     f'{sorted(values)[len(values) // 2]:.3f} |' +
                     ' |' * (len(head) - 1))
    return '\n'.join(lines)


def parse_args(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('--seeds', type=int, nargs='+',
                        default=[0, 1, 2, 3, 4])
    parser.add_argument('--numerics', nargs='+', default=['native'],
                        choices=sorted(NUMERICS))
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--jobs', type=int, default=1,
                        help='runs at once (threads each: cores / jobs)')
    parser.add_argument('--threads', type=int,
                        help='threads per run (default: cores / jobs)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to tools/train.py and tools/test.py')
    parser.add_argument('--metrics', nargs='+',
                        help='metrics to tabulate (default: all printed)')
    parser.add_argument('--table-only', action='store_true',
                        help='print the tables of the finished runs')
    args = parser.parse_args(argv)
    if not Path(args.config).is_file():
        parser.error(f'config {args.config} does not exist')
    if args.jobs < 1:
        parser.error(f'--jobs must be >= 1, got {args.jobs}')
    if args.threads is not None and args.threads < 1:
        parser.error(f'--threads must be >= 1, got {args.threads}')
    if 'avx512' in args.numerics and not _has_avx512():
        parser.error('--numerics avx512: this CPU has no avx512f '
                     '(choose native, avx2 or sse41)')
    return args


def _has_avx512() -> bool:
    try:
        return 'avx512f' in Path('/proc/cpuinfo').read_text().split()
    except OSError:
        return False


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    work_dir = Path(args.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    results_file = work_dir / 'results.jsonl'
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)

    def same_sweep(record):  # the same config and options
        return (record['config'] == args.config
                and record.get('cfg_options') == args.cfg_options)

    done = {(r['seed'], r['numerics'], r['threads'])
            for r in _done(results_file) if same_sweep(r)}
    todo = [(s, n) for n in args.numerics for s in args.seeds
            if (s, n, threads) not in done and not args.table_only]

    def one(job):
        seed, numerics = job
        record = run_one(args.config, seed, numerics, threads, work_dir,
                         args.cfg_options)
        with open(results_file, 'a') as f:  # one line per finished run
            f.write(json.dumps(record) + '\n')
        print(f'seed {seed} {numerics}: {record["metrics"]} '
              f'loss {record["first_loss"]:.3f} -> {record["last_loss"]:.3f} '
              f'({record["train_s"]:.0f} s)', flush=True)

    failed = []
    with ThreadPoolExecutor(args.jobs) as pool:
        for job, future in [(j, pool.submit(one, j)) for j in todo]:
            try:
                future.result()
            except RuntimeError as error:
                failed.append(f'seed {job[0]} {job[1]}: {error}')
    records = [r for r in _done(results_file) if same_sweep(r)]
    if not records and not failed:
        print(f'error: {results_file} holds no finished run of {args.config} '
              'with these --cfg-options: run the sweep without --table-only '
              'first', file=sys.stderr)
        return 1
    for metric in args.metrics or sorted(
            {m for r in records for m in r['metrics']}):
        print(table(records, metric) + '\n')
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
