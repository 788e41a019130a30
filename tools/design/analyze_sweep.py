"""Analyze a sweep written by sample_sweep.py once its runs have trained:

    python tools/design/analyze_sweep.py sweeps/NAME \\
        [--metric accuracy/top1] [--perfect 100] [--out-dir DIR]

reads each run's last validation metric from its work_dir (mmengine's
``vis_data/scalars.json``), takes ``error = perfect - metric`` (top-1 error
in %; use ``--metric coco/bbox_mAP --perfect 1`` for detectors), prints a
table of the runs (unfinished and unstarted ones included, marked) and the
good range of each design parameter, and writes to DIR (default
``sweeps/NAME/analysis``):

* ``edf.png``: the empirical distribution of the errors (the paper's EDF);
* ``error_vs_flops.png``: error against multiply-adds;
* ``error_vs_design.png``: error against w0, wa, wm, depth and group width,
  with the good ranges shaded.

Good ranges follow pycls's sweep analysis: bootstrap 2,500 subsets of a
quarter of the finished runs, keep each subset's best run, and report the
2.5th, 50th and 97.5th percentiles of its parameters.
"""
import argparse
import glob
import io
import json
import os
import os.path as osp
import sys

import numpy as np
from mmengine.config import Config

from mmregnet.engine import atomic_write

DESIGN_KEYS = ('w0', 'wa', 'wm', 'depth', 'group_w')

#: fewer finished runs than this make the good ranges anecdotal
FEW_RUNS = 10


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('sweep', help='sweep folder (holds manifest.json)')
    parser.add_argument('--metric', default='accuracy/top1',
                        help='validation metric to read')
    parser.add_argument('--perfect', type=float, default=100.0,
                        help="the metric's best value: error = perfect - "
                        'metric (100 for accuracy in %%, 1 for mAP)')
    parser.add_argument('--out-dir', help='where to write the plots')
    return parser.parse_args()


def run_result(work_dir: str, metric: str) -> dict:
    """The last ``metric`` value a run logged, and whether the run got to
    its last epoch (or iteration)."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data')))
    if not logs:
        return dict(status='not started', value=None)
    # the config the run used (mmengine's copy): its last epoch / iteration
    config = osp.join(logs[-1], 'config.py')
    train_cfg = Config.fromfile(config).get('train_cfg') or {} \
        if osp.isfile(config) else {}
    last = train_cfg.get('max_epochs') or train_cfg.get('max_iters') or 0
    step, value = 0, None
    for log in logs:
        scalars = osp.join(log, 'scalars.json')
        if not osp.isfile(scalars):
            continue
        with open(scalars) as f:
            for line in f:
                entry = json.loads(line)
                if metric in entry:
                    step, value = entry['step'], entry[metric]
    status = 'done' if value is not None and step >= last else \
        f'unfinished ({step}/{last})'
    return dict(status=status, value=value)


def good_ranges(errors: np.ndarray, values: dict, alpha: float = 5,
                fraction: float = 0.25, rounds: int = 2500) -> dict:
    """``{name: (low, median, high)}`` of the best run of bootstrapped
    subsets (pycls ``get_filters``)."""
    rng = np.random.default_rng(0)
    size = max(1, int(len(errors) * fraction))
    subsets = rng.integers(0, len(errors), size=(rounds, size))
    best = subsets[np.arange(rounds), np.argmin(errors[subsets], axis=1)]
    percentiles = [alpha / 2, 50, 100 - alpha / 2]
    return {
        name: tuple(np.percentile(np.asarray(column)[best], percentiles))
        for name, column in values.items()
    }


def plot(runs: list, ranges: dict, name: str, out_dir: str) -> list:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    errors = np.array([run['error'] for run in runs])
    paths = []

    def save(figure, filename):
        figure.tight_layout()
        path, png = osp.join(out_dir, filename), io.BytesIO()
        figure.savefig(png, format='png', dpi=80)
        plt.close(figure)
        atomic_write(png.getvalue(), path)
        paths.append(path)

    figure, axis = plt.subplots(figsize=(5, 3.5))
    ordered = np.sort(errors)
    axis.step(np.concatenate([[ordered[0]], ordered]),
              np.arange(len(ordered) + 1) / len(ordered), where='post',
              label=f'{name} (n={len(ordered)}, min {ordered[0]:.2f})')
    axis.set(xlabel='error', ylabel='cumulative probability',
             title='error EDF', ylim=(0, 1))
    axis.grid(alpha=0.3)
    axis.legend(loc='lower right')
    save(figure, 'edf.png')

    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.scatter([run['flops'] / 1e6 for run in runs], errors)
    axis.set(xlabel='MFLOPs', ylabel='error', title='error vs flops')
    axis.grid(alpha=0.3)
    save(figure, 'error_vs_flops.png')

    figure, axes = plt.subplots(1, len(DESIGN_KEYS),
                                figsize=(3 * len(DESIGN_KEYS), 3),
                                sharey=True)
    for axis, key in zip(axes, DESIGN_KEYS):
        axis.scatter([run['design'][key] for run in runs], errors, s=12)
        low, median, high = ranges[key]
        axis.axvspan(low, high, alpha=0.15, color='green')
        axis.axvline(median, color='green', lw=1)
        axis.set(xlabel=key)
        axis.grid(alpha=0.3)
    axes[0].set(ylabel='error')
    save(figure, 'error_vs_design.png')
    return paths


def main():
    args = parse_args()
    manifest_path = osp.join(args.sweep, 'manifest.json')
    if not osp.isfile(manifest_path):
        sys.exit(f'{manifest_path} not found: pass a folder written by '
                 'tools/design/sample_sweep.py')
    with open(manifest_path) as f:
        manifest = json.load(f)
    runs = []
    for run in manifest['runs']:
        result = run_result(osp.join(args.sweep, run['work_dir']),
                            args.metric)
        error = None if result['value'] is None else \
            args.perfect - result['value']
        runs.append(dict(run, **result, error=error))
    done = sorted((run for run in runs if run['status'] == 'done'),
                  key=lambda run: run['error'])
    pending = [run for run in runs if run['status'] != 'done']

    print(f'{"run":<10} {"w0":>4} {"wa":>6} {"wm":>6} {"d":>3} {"g":>4} '
          f'{"params":>8} {"MFLOPs":>8} {args.metric:>14} {"error":>7}  '
          'status')
    for run in done + pending:
        design = run['design']
        value = '-' if run['value'] is None else f'{run["value"]:.2f}'
        error = '-' if run['error'] is None else f'{run["error"]:.2f}'
        print(f'{run["name"]:<10} {design["w0"]:>4} {design["wa"]:>6} '
              f'{design["wm"]:>6} {design["depth"]:>3} '
              f'{design["group_w"]:>4} {run["params"] / 1e6:>7.3f}M '
              f'{run["flops"] / 1e6:>8.2f} {value:>14} {error:>7}  '
              f'{run["status"]}')
    print(f'{len(done)} of {len(runs)} runs done')
    if not done:
        sys.exit('no finished run to analyze yet')
    errors = np.array([run['error'] for run in done])
    ranges = good_ranges(errors, {
        key: [run['design'][key] for run in done] for key in DESIGN_KEYS})
    if len(done) < FEW_RUNS:
        print(f'caveat: only {len(done)} finished run(s); the ranges below '
              'repeat their values and say little about the design space '
              f'(the paper samples 100 or more; {FEW_RUNS} is a bare '
              'minimum)')
    print('good ranges (2.5 / 50 / 97.5 percentiles of the bootstrapped '
          'best runs):')
    for key, (low, median, high) in ranges.items():
        print(f'  {key:<8} {low:>8.3f} {median:>8.3f} {high:>8.3f}')
    out_dir = args.out_dir or osp.join(args.sweep, 'analysis')
    os.makedirs(out_dir, exist_ok=True)
    name = osp.basename(osp.normpath(args.sweep))
    for path in plot(done, ranges, name, out_dir):
        print(f'wrote {path}')


if __name__ == '__main__':
    main()
