"""Shared test helpers."""
import contextlib
import functools
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
import torch.nn as nn
from mmengine.config import Config


def randomise_norms(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm non-trivial affine params and running stats, so
    that comparisons of outputs exercise them."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = torch.rand(m.weight.shape, generator=gen) + 0.5
            m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.1
            m.running_mean = torch.randn(m.running_mean.shape,
                                         generator=gen) * 0.1
            m.running_var = torch.rand(m.running_var.shape,
                                       generator=gen) + 0.5
    return model


@functools.lru_cache(maxsize=None)
def load_config(path: str) -> Config:
    """``Config.fromfile``, read once per path (reading a config that
    inherits ``mmpretrain::`` bases loads mmpretrain's model index). The
    tests must not change the Config they get."""
    return Config.fromfile(str(path))


def run_python(code: str) -> str:
    """Run ``code`` (dedented) in a fresh interpreter, nothing imported yet,
    from the repository root; returns its standard output."""
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                            cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@contextlib.contextmanager
def mmengine_log(caplog):
    """Capture what mmengine's current logger (``print_log(...,
    logger='current')``, which does not propagate) logs, in ``caplog``."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
