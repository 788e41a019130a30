"""The project's tools run as a user runs them (a subprocess each, from the
repository root), and the end-to-end artifacts that several tests share:
a quick start trained with ``tools/train.py`` and evaluated with
``tools/test.py``. tests/conftest.py builds each artifact once per test
run."""
import ast
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional

ROOT = Path(__file__).resolve().parents[1]
DIGITS_CONFIG = ROOT / 'configs/quickstart/regnet-tiny_1xb64_digits.py'
_DETECTION = ROOT / 'configs/mmdet/quickstart'
FASTER_RCNN = _DETECTION / 'faster-rcnn_regnetx-tiny_fpn_1xb8_shapes.py'
RETINANET = _DETECTION / 'retinanet_regnety-tiny_fpn_1xb8_shapes.py'
MASK_RCNN = _DETECTION / 'mask-rcnn_regnetx-tiny_fpn_1xb8_shapes.py'
DETECTION_CONFIGS = (FASTER_RCNN, RETINANET, MASK_RCNN)
# One OpenMP thread for the detectors: on a busy 2-core machine two threads
# took 4.1 s per RetinaNet step and one 0.20 s (docs/detection.md); their
# floors were measured with one
ONE_THREAD = dict(OMP_NUM_THREADS='1')


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now: the rendezvous port of a
    multi-process run (tools/dist_run.sh's PORT), so that two such runs of
    parallel test processes never meet."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def run_tool(args, timeout=900, extra_env=None, **kwargs) -> str:
    """Run ``args`` with the repository on the path; assert it exits 0 and
    return its standard output and error."""
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'PYTHON': sys.executable,
           'PORT': str(free_port()), **(extra_env or {})}
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, (result.stdout[-2000:] +
                                    result.stderr[-4000:])
    return result.stdout + result.stderr


def digits_options(root) -> List[str]:
    """--cfg-options that point a config's three loaders at ``root``."""
    return [f'{loader}.dataset.data_root={root}'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')]


def shapes_options(root) -> List[str]:
    """--cfg-options that point a detection quick start at the generated
    shapes dataset in ``root`` (loaders and COCO evaluators)."""
    ann_file = f'{root}/annotations/instances_val.json'
    return digits_options(f'{root}/') + [
        f'val_evaluator.0.ann_file={ann_file}',
        f'test_evaluator.0.ann_file={ann_file}']


class QuickStart(NamedTuple):
    """A config trained by ``tools/train.py`` and its last checkpoint
    evaluated by ``tools/test.py``, in ``work_dir``."""
    config: Path
    work_dir: Path
    options: List[str]  # the --cfg-options of both runs
    train_log: str  # tools/train.py's output
    checkpoint: Path  # the last one, as named in work_dir/last_checkpoint
    test_metrics: Dict[str, float]  # the dict tools/test.py printed


def train_and_test(config: Path, work_dir: Path, options: List[str],
                   extra_env: Optional[Dict[str, str]] = None) -> QuickStart:
    """Train ``config`` with tools/train.py into ``work_dir``, then evaluate
    its last checkpoint with tools/test.py (work dir ``work_dir/test``)."""
    log = run_tool([sys.executable, 'tools/train.py', str(config),
                    '--work-dir', str(work_dir), '--cfg-options', *options],
                   timeout=2400, extra_env=extra_env)
    checkpoint = Path((work_dir / 'last_checkpoint').read_text().strip())
    out = run_tool([sys.executable, 'tools/test.py', str(config),
                    str(checkpoint), '--work-dir', str(work_dir / 'test'),
                    '--cfg-options', *options], extra_env=extra_env)
    metrics = ast.literal_eval(out.strip().splitlines()[-1])  # printed dict
    return QuickStart(config, work_dir, options, log, checkpoint, metrics)
