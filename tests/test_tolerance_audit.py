"""tests/tolerance_audit.py: with MMREGNET_TOLERANCE_AUDIT set, every
torch.testing.assert_close is observed (and still asserts), and each test's
largest difference and share of its tolerance are written out."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def test_records_the_largest_difference_and_share_of_each_test(tmp_path):
    (tmp_path / 'test_sample.py').write_text(textwrap.dedent('''
        import torch

        def test_within():
            x = torch.ones(3)
            torch.testing.assert_close(x + 2e-6, x, rtol=0, atol=1e-5)
            torch.testing.assert_close(x + 5e-6, x, rtol=0, atol=1e-5)

        def test_default_float64_tolerance():
            x = torch.ones(2, dtype=torch.float64)
            torch.testing.assert_close(x + 1e-8, x)

        def test_still_asserts():
            torch.testing.assert_close(torch.ones(1), torch.zeros(1))
    '''))
    out = tmp_path / 'audit.json'
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'tests.tolerance_audit',
         '-p', 'no:cacheprovider', str(tmp_path / 'test_sample.py')],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=str(ROOT),
                 MMREGNET_TOLERANCE_AUDIT=str(out)))
    assert '1 failed, 2 passed' in result.stdout, result.stdout[-2000:]
    audit = json.loads(out.read_text())
    tests = {name.split('::')[1]: entry
             for name, entry in audit['tests'].items()}
    assert set(tests) == {'test_within', 'test_default_float64_tolerance'}
    within = tests['test_within']
    assert abs(within['max_abs'] - 5e-6) < 1e-7
    assert abs(within['max_used'] - 0.5) < 0.02
    assert tests['test_default_float64_tolerance']['atol'] == 1e-7
    assert audit['aten'] == torch.backends.cpu.get_cpu_capability()
