"""tools/analysis_tools/seed_sweep.py: seeds x CPU numerics variants of a
short training run, tabulated with the worst value."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.end_to_end import digits_options
from tools.analysis_tools.seed_sweep import NUMERICS, table

ROOT = Path(__file__).resolve().parents[1]
DIGITS = 'configs/quickstart/regnet-tiny_1xb64_digits.py'


def _record(seed, numerics, threads, top1):
    return dict(config='c.py', seed=seed, numerics=numerics, threads=threads,
                metrics={'accuracy/top1': top1})


def test_table_puts_seeds_down_variants_across_and_the_worst_last():
    records = [_record(0, 'native', 1, 98.0), _record(1, 'native', 1, 96.5),
               _record(0, 'sse41', 2, 97.25)]
    lines = table(records, 'accuracy/top1').splitlines()
    assert lines[0] == '| accuracy/top1 | native (1 thr) | sse41 (2 thr) |'
    assert lines[2] == '| seed 0 | 98.000 | 97.250 |'
    assert lines[3] == '| seed 1 | 96.500 |  |'
    assert lines[4].startswith('| worst / median | 96.500 / 97.250 |')


@pytest.mark.parametrize('numerics, capability',
                         [('sse41', 'DEFAULT'), ('avx2', 'AVX2')])
def test_numerics_variants_select_torchs_kernels(numerics, capability):
    import os
    result = subprocess.run(
        [sys.executable, '-c', 'import torch; '
         'print(torch.backends.cpu.get_cpu_capability())'],
        env=dict(os.environ, **NUMERICS[numerics]), capture_output=True,
        text=True, timeout=120)
    assert result.stdout.split() == [capability]


@pytest.mark.parametrize('args, message', [
    (['nowhere.py', '--work-dir', 'w'], 'config nowhere.py does not exist'),
    ([DIGITS, '--work-dir', 'w', '--numerics', 'avx9'],
     "invalid choice: 'avx9'"),
    ([DIGITS, '--work-dir', 'w', '--jobs', '0'], '--jobs must be >= 1, got 0'),
    ([DIGITS, '--work-dir', 'w', '--threads', '-1'],
     '--threads must be >= 1, got -1'),
])
def test_bad_arguments_are_one_line_errors(args, message, tmp_path):
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/seed_sweep.py', *args],
        cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert message in result.stderr.strip().splitlines()[-1]
    assert not (ROOT / 'w').exists()


@pytest.mark.slow
def test_sweep_trains_tests_records_and_skips_finished_runs(digits,
                                                            tmp_path):
    args = [sys.executable, 'tools/analysis_tools/seed_sweep.py', DIGITS,
            '--seeds', '0', '--numerics', 'native', '--work-dir',
            str(tmp_path / 'sweep'), '--metrics', 'accuracy/top1',
            '--cfg-options', 'train_cfg.max_epochs=1',
            *digits_options(digits)]
    first = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                           timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    (record, ) = [json.loads(line) for line in
                  (tmp_path / 'sweep/results.jsonl').read_text().splitlines()]
    assert record['seed'] == 0 and record['numerics'] == 'native'
    assert 0 < record['metrics']['accuracy/top1'] <= 100
    assert 'seed 0 native' in first.stdout
    assert f"| seed 0 | {record['metrics']['accuracy/top1']:.3f} |" in \
        first.stdout
    again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0 and 'seed 0 native' not in again.stdout
    assert '| seed 0 |' in again.stdout
    assert record['cfg_options'] == args[args.index('--cfg-options') + 1:]
