"""tools/analysis_tools/benchmark_data.py: images/s of the pycls training
pipeline per data-loader worker, on JPEG files it writes. A tiny run that
checks what it writes; the figures are in docs/performance.md."""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from tools.analysis_tools import benchmark_data

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # a benchmark run
def test_the_pipeline_is_timed_per_transform_and_per_worker(tmp_path):
    out = tmp_path / 'data.json'
    run = subprocess.run(
        [sys.executable, 'tools/analysis_tools/benchmark_data.py',
         '--images', '8', '--batch-size', '4', '--epochs', '2',
         '--workers', '0', '1', '--image-dir', str(tmp_path / 'jpegs'),
         '--json', str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert list(result['transform_ms_per_image']) == [
        '0 LoadImageFromFile', '1 RandomResizedCrop', '2 RandomFlip',
        '3 Lighting', '4 PackInputs'
    ]
    assert all(ms > 0 for ms in result['transform_ms_per_image'].values())
    assert set(result['loader_images_per_s']) == {'0', '1'}
    assert set(result['images_per_s_per_worker']) == {'1'}
    assert 'images/s (per worker)' in run.stdout


def test_jpegs_are_imagenet_shaped(tmp_path):
    benchmark_data.write_jpegs(tmp_path, 4)
    files = sorted(tmp_path.glob('*/*.jpg'))
    assert [f.parent.name for f in files] == ['a', 'a', 'b', 'b']
    shapes = {cv2.imread(str(f)).shape for f in files}
    assert shapes == {(375, 500, 3), (500, 375, 3)}


@pytest.mark.parametrize('argv, message', [
    (['--images', '8', '--batch-size', '8'], 'must be at least 2 batches'),
    (['--workers', '-1'], '--workers must be 0 or more'),
    (['--epochs', '0'], '--epochs must be at least 1, got 0'),
    (['configs/nope.py'], 'no such config: configs/nope.py'),
])
def test_bad_arguments_are_named(argv, message, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # config paths are relative to the root
    with pytest.raises(SystemExit):
        benchmark_data.parse_args(argv)
    assert message in capsys.readouterr().err


def test_a_folder_with_images_in_it_is_refused(tmp_path, capsys):
    (tmp_path / 'photo.jpg').write_bytes(b'')
    with pytest.raises(SystemExit):
        benchmark_data.parse_args(
            [str(ROOT / benchmark_data.DEFAULT_CONFIG), '--image-dir',
             str(tmp_path)])
    assert f'--image-dir {tmp_path} is not empty' in capsys.readouterr().err
