"""Session fixtures: what several tests need and takes long to make is
made once per test run and shared (docs/testing.md, "Shared fixtures").
A fixture whose tool fails raises: the tests that use it error, none is
skipped."""
from pathlib import Path
from typing import Callable

import pytest

from tests.distributions import Distributions, build_distributions
from tests.end_to_end import (DETECTION_CONFIGS, DIGITS_CONFIG, FASTER_RCNN,
                              MASK_RCNN, ONE_THREAD, RETINANET, QuickStart,
                              TwoLanes, digits_options, shapes_options,
                              train_and_test)


@pytest.fixture(scope='session')
def digits(tmp_path_factory) -> Path:
    """scikit-learn's digits as an image-folder dataset (1,437 training,
    360 validation images)."""
    from tools.dataset_converters.prepare_digits import prepare
    root = tmp_path_factory.mktemp('digits')
    assert prepare(str(root)) == {'train': 1437, 'val': 360}
    return root


@pytest.fixture(scope='session')
def digits_quickstart(digits, tmp_path_factory) -> QuickStart:
    """The digits quick start as tools/quickstart.sh runs it: 20 epochs of
    tools/train.py, then tools/test.py on the last checkpoint."""
    return train_and_test(DIGITS_CONFIG,
                          tmp_path_factory.mktemp('digits_quickstart'),
                          digits_options(digits))


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
    with one thread, as its floors were measured, once per test run. The
    first call also starts the others in the background, Mask R-CNN (the
    longest) first: each keeps one of the two cores busy."""
    work_dirs = {config: tmp_path_factory.mktemp(config.stem)
                 for config in DETECTION_CONFIGS}

    def build(config, started):
        return train_and_test(config, work_dirs[config],
                              shapes_options(shapes), ONE_THREAD, started)

    lanes = TwoLanes(build, longest_first=[MASK_RCNN, FASTER_RCNN,
                                           RETINANET])
    yield lanes.get
    lanes.close()


@pytest.fixture(scope='session')
def dists(tmp_path_factory) -> Distributions:
    """mmregnet's sdist, and its wheel built from that sdist."""
    return build_distributions(tmp_path_factory.mktemp('dists'))
