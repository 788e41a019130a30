"""Every config loads, builds and follows the recipe its name promises."""
import re
from pathlib import Path

import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from .helpers import load_config

ROOT = Path(__file__).resolve().parents[1]
IMAGENET_CONFIGS = sorted((ROOT / 'configs').glob('regnet*_in1k.py'))
# classifiers (detectors: tests/test_detection.py)
ALL_CONFIGS = sorted(p for p in (ROOT / 'configs').rglob('*.py')
                     if '_base_' not in p.parts and 'mmdet' not in p.parts)
NAME = re.compile(r'(regnet[xy])-([0-9.]+[mg]f)_8xb(64|128)_in1k')


def _build(cfg):
    """The config's model, on the meta device: built as on any other, with
    no memory and no time spent drawing initial weights (this file reads
    none; the sharded configs hold billions of parameters)."""
    with torch.device('meta'), \
            DefaultScope.overwrite_default_scope(cfg.default_scope):
        return MODELS.build(cfg.model)


def test_all_24_archs_have_an_imagenet_config():
    archs = {'{}_{}'.format(*NAME.fullmatch(p.stem).groups()[:2])
             for p in IMAGENET_CONFIGS}
    from mmregnet.design import ARCH_SETTINGS
    assert archs == set(ARCH_SETTINGS)


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=lambda p: p.stem)
def test_config_builds_a_classifier_whose_head_fits_the_backbone(path):
    cfg = load_config(path)
    model = _build(cfg)
    assert type(model.backbone).__module__.startswith('mmregnet.')
    assert model.head.fc.in_features == model.backbone.stage_widths[-1]
    assert cfg.model.head.in_channels == model.backbone.stage_widths[-1]


@pytest.mark.parametrize('path', IMAGENET_CONFIGS, ids=lambda p: p.stem)
def test_imagenet_configs_reproduce_the_pycls_recipe(path):
    family, size, batch = NAME.fullmatch(path.stem).groups()
    cfg = load_config(path)
    assert cfg.model.backbone.arch == f'{family}_{size}'
    assert cfg.train_dataloader.batch_size == int(batch)
    total = 8 * int(batch)
    assert cfg.auto_scale_lr.base_batch_size == total
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.lr == pytest.approx(0.1 * total / 128)  # 0.8 at 1024
    assert optimizer.type == 'SGD' and optimizer.nesterov
    assert optimizer.momentum == 0.9 and optimizer.weight_decay == 5e-5
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.end) == ('LinearLR', 5)
    assert (cosine.type, cosine.begin, cosine.end) == ('CosineAnnealingLR', 5,
                                                       100)
    assert cfg.train_cfg.max_epochs == 100
    # BGR input with pycls mean/std, as OpenMMLab's checkpoints expect
    assert cfg.data_preprocessor.to_rgb is False
    assert cfg.data_preprocessor.mean == [103.53, 116.28, 123.675]
    assert cfg.data_preprocessor.std == [57.375, 57.12, 58.395]
    train_types = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert train_types == ['LoadImageFromFile', 'RandomResizedCrop',
                           'RandomFlip', 'Lighting', 'PackInputs']
    test_types = [t.type for t in cfg.test_dataloader.dataset.pipeline]
    assert test_types == ['LoadImageFromFile', 'ResizeEdge', 'CenterCrop',
                          'PackInputs']
    assert [h.type for h in cfg.custom_hooks] == ['PreciseBNHook']
    assert cfg.default_hooks.checkpoint.backend_args == dict(
        backend='atomic_local')
    assert cfg.default_hooks.portable_checkpoint.type == \
        'mmregnet.PortableCheckpointHook'
