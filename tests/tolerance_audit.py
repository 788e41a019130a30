"""Pytest plugin: how much of its numeric tolerance does each test use?

    MMREGNET_TOLERANCE_AUDIT=audit.json \\
        python -m pytest -p tests.tolerance_audit
    ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 \\
        MMREGNET_TOLERANCE_AUDIT=audit-sse41.json \\
        python -m pytest -p tests.tolerance_audit

Every ``torch.testing.assert_close`` call is observed (and still asserts as
before): for each test, the largest absolute difference and the largest
fraction of the allowed difference ``atol + rtol * |expected|`` it reached
are written to the JSON file, with the CPU numerics of the run. The tables
and the tolerances chosen from them are in docs/testing.md.
"""
import json
import os
import platform

import pytest
import torch

_observed = {}
_current = {'test': None}
# torch.testing.assert_close's defaults (rtol, atol) by dtype; exact otherwise
_DEFAULTS = {torch.float16: (1e-3, 1e-5), torch.bfloat16: (1.6e-2, 1e-5),
             torch.float32: (1.3e-6, 1e-5), torch.float64: (1e-7, 1e-7)}


def _record(actual, expected, rtol, atol):
    if _current['test'] is None or rtol is None or atol is None:
        return
    try:
        actual = torch.as_tensor(actual).detach().double()
        expected = torch.as_tensor(expected).detach().double()
    except (TypeError, ValueError, RuntimeError):
        return  # not numeric (e.g. nested containers): nothing to measure
    if actual.numel() == 0 or actual.shape != expected.shape:
        return
    difference = (actual - expected).abs()
    allowed = atol + rtol * expected.abs()
    used = float((difference / allowed).max()) if float(allowed.min()) > 0 \
        else float(difference.max() > 0)
    entry = _observed.setdefault(_current['test'], dict(
        max_abs=0.0, max_used=0.0, rtol=rtol, atol=atol))
    entry['max_abs'] = max(entry['max_abs'], float(difference.max()))
    entry['max_used'] = max(entry['max_used'], used)


def pytest_configure(config):
    if not os.environ.get('MMREGNET_TOLERANCE_AUDIT'):
        return
    original = torch.testing.assert_close

    def observed_assert_close(actual, expected, *args, **kwargs):
        original(actual, expected, *args, **kwargs)
        dtype = getattr(actual, 'dtype', None)
        rtol, atol = _DEFAULTS.get(dtype, (0.0, 0.0))
        _record(actual, expected, kwargs.get('rtol', rtol),
                kwargs.get('atol', atol))

    torch.testing.assert_close = observed_assert_close


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    _current['test'] = item.nodeid
    yield
    _current['test'] = None


def _cpu() -> str:
    """The CPU's model name and AVX-512 flags, from /proc/cpuinfo."""
    try:
        info = open('/proc/cpuinfo').read()
    except OSError:
        return platform.processor()
    name = next((line.split(':', 1)[1].strip() for line in info.splitlines()
                 if line.startswith('model name')), platform.processor())
    flags = sorted({f for f in info.split() if f.startswith('avx512')})
    return ' '.join([name, *flags])


def pytest_sessionfinish(session):
    path = os.environ.get('MMREGNET_TOLERANCE_AUDIT')
    if not path:
        return
    numerics = {k: os.environ.get(k, '') for k in (
        'ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA', 'OMP_NUM_THREADS')}
    with open(path, 'w') as f:
        json.dump(dict(numerics=numerics, cpu=_cpu(),
                       aten=torch.backends.cpu.get_cpu_capability(),
                       tests=_observed), f, indent=1, sort_keys=True)
