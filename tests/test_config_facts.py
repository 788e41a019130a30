"""What a config says that several tools ask, answered in one place
(mmregnet.engine.config): its dataset inside dataset wrappers, and the side
of a pipeline's square crop (the dataset check, the memory plan,
benchmark_train.py, zoo_benchmark.py, tools/design and the quantize tool's
calibration data all use these)."""
import pytest
from mmengine.config import Config

from mmregnet.engine import DatasetNotFoundError, check_dataset_paths
from mmregnet.engine.config import (crop_size, innermost_dataset,
                                    train_crop_size)


def wrapped(dataset: dict) -> dict:
    return dict(type='RepeatDataset', times=2, dataset=dict(
        type='ClassBalancedDataset', oversample_thr=0.1, dataset=dataset))


def test_the_innermost_dataset_is_found_inside_any_wrappers():
    imagenet = dict(type='ImageNet', data_root='data/imagenet')
    assert innermost_dataset(wrapped(imagenet)) is imagenet
    assert innermost_dataset(imagenet) is imagenet


def test_a_wrapped_datasets_missing_folder_is_named(tmp_path):
    cfg = Config(dict(train_dataloader=dict(dataset=wrapped(dict(
        type='ImageNet', data_root=str(tmp_path / 'imagenet'))))))
    with pytest.raises(DatasetNotFoundError,
                       match=f"'{tmp_path / 'imagenet'}'"):
        check_dataset_paths(cfg, ['train_dataloader'])


@pytest.mark.parametrize('pipeline, side', [
    ([dict(type='LoadImageFromFile'),
      dict(type='RandomResizedCrop', scale=176),
      dict(type='PackInputs')], 176),
    ([dict(type='ResizeEdge', scale=256),
      dict(type='CenterCrop', crop_size=(160, 160))], 160),
    ([dict(type='RandomCrop', crop_size=(512, 384))], None),  # not square
    ([dict(type='Resize', scale=(1333, 800), keep_ratio=True)], None),
    ([dict(type='Resize', scale=224)], None),  # resizes, crops nothing
])
def test_a_pipelines_square_crop(pipeline, side):
    assert crop_size(pipeline) == side


def test_the_training_crop_is_read_inside_dataset_wrappers():
    pipeline = [dict(type='RandomResizedCrop', scale=176)]
    cfg = Config(dict(train_dataloader=dict(
        dataset=wrapped(dict(type='ImageNet', pipeline=pipeline)))))
    assert train_crop_size(cfg) == 176
    assert train_crop_size(Config(dict(model=dict()))) is None
