"""tools/analysis_tools/benchmark_train.py: the product path (the Runner of
tools/train.py on synthetic data) beside bare training steps of the same
model and of timm's. Tiny runs that check what it writes; the speed itself
is measured by running the tool (docs/performance.md)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mmregnet.engine import native_bf16_feature
from tools.analysis_tools import benchmark_train

ROOT = Path(__file__).resolve().parents[1]
TOOL = 'tools/analysis_tools/benchmark_train.py'


def _run(*args):
    return subprocess.run([sys.executable, TOOL, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow  # a benchmark run
def test_runner_and_bare_steps_are_timed_in_the_same_blocks(tmp_path):
    out = tmp_path / 'train.json'
    run = _run('configs/regnetx-400mf_8xb128_in1k.py', '--input-size', '32',
               '--batch-size', '2', '--iters', '2', '--blocks', '2',
               '--warmup', '1', '--threads', '1', '--json', str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    env = result['environment']
    assert (env['batch_size'], env['input_size'], env['dtype']) == \
        (2, 32, 'float32')
    assert env['native_bf16'] in ('none', 'avx512_bf16', 'amx_bf16')
    cases = {(c['impl'], c['mode']): c for c in result['cases']}
    assert list(cases) == [
        ('Runner', 'tools/train.py'),
        ('mmregnet', 'bare channels_last fp32'),
        ('timm', 'bare channels_last fp32'),
    ]
    for case in cases.values():
        assert len(case['samples_s']) == 2  # one per block
        assert all(s > 0 for s in case['samples_s'])
        assert case['runner_speed'] > 0
    assert cases['Runner', 'tools/train.py']['runner_speed'] == 1.0
    assert result['first_iteration_s'] > 0
    assert 'Runner speed' in run.stdout
    assert 'timm bare channels_last fp32' in run.stdout


@pytest.mark.slow  # a benchmark run
def test_amp_adds_bare_steps_in_the_runners_precision_or_says_why_not(
        tmp_path):
    out = tmp_path / 'amp.json'
    run = _run('configs/regnetx-400mf_8xb128_in1k.py', '--amp',
               '--input-size', '32', '--batch-size', '2', '--iters', '1',
               '--blocks', '1', '--warmup', '1', '--threads', '1', '--json',
               str(out))
    if torch.cuda.is_available() or native_bf16_feature():
        assert run.returncode == 0, run.stderr[-3000:]
        result = json.loads(out.read_text())
        dtype = result['environment']['dtype']
        assert dtype in ('bfloat16', 'float16')
        assert [(c['impl'], c['mode']) for c in result['cases']][1:] == [
            ('mmregnet', 'bare channels_last fp32'),
            ('timm', 'bare channels_last fp32'),
            ('mmregnet', f'bare channels_last {dtype}'),
            ('timm', f'bare channels_last {dtype}'),
        ]
    else:
        assert run.returncode != 0
        assert 'native bf16' in run.stderr.strip().splitlines()[-1]
        assert not out.exists()


@pytest.mark.slow  # a benchmark run
def test_a_custom_arch_runs_without_timm_and_says_so():
    # the quick start: a RegNet from an explicit design, 32x32 crops
    run = _run('configs/quickstart/regnet-tiny_1xb64_digits.py',
               '--batch-size', '2', '--iters', '1', '--blocks', '1',
               '--warmup', '1', '--threads', '1')
    assert run.returncode == 0, run.stderr[-3000:]
    assert '32x32, batch 2' in run.stdout
    assert 'timm: no model for arch' in run.stdout


def test_detection_configs_are_refused_in_one_line():
    run = _run('configs/mmdet/quickstart/'
               'retinanet_regnety-tiny_fpn_1xb8_shapes.py')
    assert run.returncode != 0
    assert run.stderr.strip().splitlines()[-1].startswith('error: ')
    assert "default_scope 'mmdet'" in run.stderr
    assert 'Traceback' not in run.stderr


@pytest.mark.parametrize('argv, message', [
    (['--iters', '6', '--blocks', '4'], '--iters 6 is not a multiple'),
    (['--iters', '0'], '--iters must be at least 1, got 0'),
    (['--warmup', '0'], '--warmup must be at least 1, got 0'),
])
def test_bad_counts_are_named(argv, message, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # config paths are relative to the root
    with pytest.raises(SystemExit):
        benchmark_train.parse_args(
            ['configs/regnetx-400mf_8xb128_in1k.py'] + argv)
    assert message in capsys.readouterr().err


def test_a_missing_config_is_named(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # config paths are relative to the root
    with pytest.raises(SystemExit):
        benchmark_train.parse_args(['configs/nope.py'])
    assert 'no such config: configs/nope.py' in capsys.readouterr().err


def test_the_input_size_is_the_train_pipelines_crop():
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='RandomResizedCrop', scale=224),
                dict(type='RandomFlip', prob=0.5),
                dict(type='PackInputs')]
    assert benchmark_train.crop_size(pipeline) == 224
    assert benchmark_train.crop_size(
        [dict(type='CenterCrop', crop_size=(160, 160))]) == 160
    with pytest.raises(ValueError, match='pass --input-size'):
        benchmark_train.crop_size([dict(type='Resize', scale=(320, 200))])
