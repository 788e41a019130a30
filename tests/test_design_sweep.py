"""End to end: sample a sweep of tiny RegNets on the digits, train each with
tools/train.py, analyze it."""
import json
import sys

import pytest

from tests.end_to_end import digits_options, run_tool

pytestmark = pytest.mark.slow
BASE = 'configs/quickstart/regnet-tiny_1xb64_digits.py'


def test_sample_train_and_analyze_a_sweep_of_three(digits, tmp_path):
    sweep = tmp_path / 'sweep'
    out = run_tool([
        sys.executable, 'tools/design/sample_sweep.py', BASE, '--num', '3',
        '--flops', '1M', '3M', '--seed', '0', '--out-dir', str(sweep),
        '--cfg-options', *digits_options(digits), 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', 'train_dataloader.dataset.indices=192',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0'
    ])
    manifest = json.loads((sweep / 'manifest.json').read_text())
    names = [run['name'] for run in manifest['runs']]
    assert names == ['run-000', 'run-001', 'run-002']
    for run in manifest['runs']:
        assert 1e6 <= run['flops'] <= 3e6 and run['name'] in out
        assert (sweep / run['config']).is_file()

    for run in manifest['runs'][:2]:
        run_tool(
            [sys.executable, 'tools/train.py', str(sweep / run['config'])])
    analyze = [sys.executable, 'tools/design/analyze_sweep.py', str(sweep)]
    table = run_tool(analyze)
    assert '2 of 3 runs done' in table
    assert any(line.startswith('run-002') and line.endswith('not started')
               for line in table.splitlines())

    run_tool([sys.executable, 'tools/train.py',
              str(sweep / manifest['runs'][2]['config'])])
    table = run_tool(analyze)
    assert '3 of 3 runs done' in table
    rows = [line for line in table.splitlines() if line.startswith('run-')]
    assert sorted(row.split()[0] for row in rows) == names
    assert all(row.endswith('done') for row in rows)
    assert 'good ranges' in table
    for plot in ('edf.png', 'error_vs_flops.png', 'error_vs_design.png'):
        png = (sweep / 'analysis' / plot).read_bytes()
        assert png.startswith(b'\x89PNG') and len(png) > 5000
