"""Session fixtures: what several tests need and takes long to make is
made once per test run and shared (docs/testing.md, "Tiers and shared
fixtures"), also between the processes of pytest-xdist (``made_once``).
A fixture whose tool fails raises: the tests that use it error, none is
skipped."""
import os
import pickle
from pathlib import Path
from typing import Callable, TypeVar

import pytest
from filelock import FileLock

from tests.distributions import Distributions, build_distributions
from tests.end_to_end import (DIGITS_CONFIG, ONE_THREAD, QuickStart,
                              digits_options, shapes_options, train_and_test)

T = TypeVar('T')


def pytest_configure(config):
    """Under pytest-xdist each test process computes with one thread (and
    so do the tools it starts, unless a test says otherwise): two processes
    with two threads each on two cores would wait on each other."""
    if os.environ.get('PYTEST_XDIST_WORKER'):
        import torch
        os.environ['OMP_NUM_THREADS'] = '1'
        torch.set_num_threads(1)


def made_once(tmp_path_factory, name: str, make: Callable[[Path], T]) -> T:
    """``make(folder)``, run once per test run even when pytest-xdist runs
    the tests in several processes: the first process that asks makes it
    under a file lock and pickles the result beside ``folder``; the others
    wait for it and read it. A failed ``make`` raises in the process that
    ran it and a one-line error in every other one."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'):
        root = root.parent  # shared by the workers of this run
    folder, result = root / name, root / f'{name}.pickle'
    with FileLock(str(root / f'{name}.lock')):
        if result.exists():
            return pickle.loads(result.read_bytes())
        if folder.exists():
            raise RuntimeError(f'making {name} failed in another test '
                               'process; its error is reported there')
        folder.mkdir()
        value = make(folder)
        result.write_bytes(pickle.dumps(value))
        return value


def pytest_collection_modifyitems(config, items):
    """The files with end-to-end (``slow``) tests first, each file's tests in
    their order: the test processes start with the longest work and end
    with short tests that fill the gaps."""
    slow_files = {item.path for item in items
                  if item.get_closest_marker('slow')}
    items.sort(key=lambda item: item.path not in slow_files)


@pytest.fixture(autouse=True)
def default_scope_as_found():
    """Each test leaves mmengine's default scope as it found it. The current
    ``DefaultScope`` is process-wide and the newest one wins, so a test that
    builds a detector would otherwise make ``mmdet`` the scope of every
    unscoped build in the tests after it (in that process only, so under
    pytest-xdist a test could pass or fail with the test order)."""
    from mmengine.registry import DefaultScope
    scopes = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(scopes)


@pytest.fixture(scope='session')
def digits(tmp_path_factory) -> Path:
    """scikit-learn's digits as an image-folder dataset (1,437 training,
    360 validation images)."""
    from tools.dataset_converters.prepare_digits import prepare

    def make(root):
        assert prepare(str(root)) == {'train': 1437, 'val': 360}
        return root

    return made_once(tmp_path_factory, 'digits', make)


@pytest.fixture(scope='session')
def digits_quickstart(digits, tmp_path_factory) -> QuickStart:
    """The digits quick start as tools/quickstart.sh runs it: 20 epochs of
    tools/train.py, then tools/test.py on the last checkpoint."""
    return made_once(
        tmp_path_factory, 'digits_quickstart',
        lambda work_dir: train_and_test(DIGITS_CONFIG, work_dir,
                                        digits_options(digits)))


@pytest.fixture(scope='session')
def shapes(tmp_path_factory) -> Path:
    """The generated COCO dataset of the detection quick starts: 160
    training, 40 validation images."""
    from tools.dataset_converters.make_shapes_coco import make_shapes_coco
    root = tmp_path_factory.mktemp('shapes')
    counts = make_shapes_coco(root, num_train=160, num_val=40)
    assert [images for images, _ in counts.values()] == [160, 40]
    return root


@pytest.fixture(scope='session')
def detection_quickstart(shapes,
                         tmp_path_factory) -> Callable[[Path], QuickStart]:
    """``detection_quickstart(config)``: the detection quick start
    ``config`` (one of end_to_end.DETECTION_CONFIGS) trained and tested
    with one thread, as its floors were measured, on its first use, once
    per test run (its tests share a file, so one test process runs
    them)."""
    runs = {}

    def get(config: Path) -> QuickStart:
        if config not in runs:
            runs[config] = train_and_test(
                config, tmp_path_factory.mktemp(config.stem),
                shapes_options(shapes), ONE_THREAD)
        return runs[config]

    return get


@pytest.fixture(scope='session')
def dists(tmp_path_factory) -> Distributions:
    """mmregnet's sdist, and its wheel built from that sdist."""
    return made_once(tmp_path_factory, 'dists', build_distributions)
