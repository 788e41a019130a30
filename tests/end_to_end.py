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
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional

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


def run_tool(args, timeout=900, extra_env=None,
             started: Optional[Callable[[subprocess.Popen], None]] = None,
             **kwargs) -> str:
    """Run ``args`` with the repository on the path; assert it exits 0 and
    return its standard output and error. ``started(process)`` is called
    once the process runs (to stop it from another thread)."""
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'PYTHON': sys.executable,
           'PORT': str(free_port()), **(extra_env or {})}
    with subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          **kwargs) as process:
        if started is not None:
            started(process)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, (stdout[-2000:] + stderr[-4000:])
    return stdout + stderr


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
                   extra_env: Optional[Dict[str, str]] = None,
                   started: Optional[Callable] = None) -> QuickStart:
    """Train ``config`` with tools/train.py into ``work_dir``, then evaluate
    its last checkpoint with tools/test.py (work dir ``work_dir/test``);
    ``started``: see :func:`run_tool`."""
    log = run_tool([sys.executable, 'tools/train.py', str(config),
                    '--work-dir', str(work_dir), '--cfg-options', *options],
                   timeout=2400, extra_env=extra_env, started=started)
    checkpoint = Path((work_dir / 'last_checkpoint').read_text().strip())
    out = run_tool([sys.executable, 'tools/test.py', str(config),
                    str(checkpoint), '--work-dir', str(work_dir / 'test'),
                    '--cfg-options', *options], extra_env=extra_env,
                   started=started)
    metrics = ast.literal_eval(out.strip().splitlines()[-1])  # printed dict
    return QuickStart(config, work_dir, options, log, checkpoint, metrics)


class TwoLanes:
    """Builds artifacts that each keep one core busy (one-thread trainings)
    on two lanes of a 2-core machine: the caller's, and a background
    thread that takes the others, longest first. ``get(key)`` returns the
    artifact: built by the caller if the background has not started it
    yet, else waited for; a build's exception is raised by ``get``."""

    def __init__(self, build: Callable, longest_first: List):
        self._build = build  # build(key, started) -> artifact
        self._order = list(longest_first)
        self._background = None  # a single-thread executor
        self._futures = {}
        self._processes = set()  # the background's running processes
        self._closed = False

    def get(self, key):
        if self._background is None:
            self._background = ThreadPoolExecutor(max_workers=1)
            for other in self._order:
                if other != key:
                    self._futures[other] = self._background.submit(
                        self._build_in_background, other)
        future = self._futures.get(key)
        if future is None or future.cancel():  # not started: build it here
            future = self._futures[key] = Future()
            try:
                future.set_result(self._build(key, None))
            except BaseException as error:
                future.set_exception(error)
        return future.result()

    def _build_in_background(self, key):
        return self._build(key, self._register)

    def _register(self, process: subprocess.Popen):
        self._processes.add(process)
        if self._closed:
            process.kill()

    def close(self):
        """Stop what the background runs and drop what it has not begun."""
        self._closed = True
        if self._background is not None:
            self._background.shutdown(wait=False, cancel_futures=True)
            for process in list(self._processes):
                process.kill()
            self._background.shutdown(wait=True)
