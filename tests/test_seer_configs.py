"""configs/seer: the SEER trunk (RegNetY-32GF, RGB input) under a linear
probe, a fine-tune and Faster R-CNN, each with the recipe its comment cites
(vissl's benchmark configs) and vissl's trunk as its ``init_cfg``: the
model-index entry ``mmregnet://regnety-32gf_3rdparty-seer_ig1b``, a
backbone-only checkpoint. Built on the meta device (145 M parameters)."""
import pytest
import torch
from mmengine.config import Config

from mmregnet.model_index import list_models, lookup
from mmregnet.weights import SCHEME, weights_of
from tests.peers import ROOT

SEER = ROOT / 'configs/seer'
TRUNK = dict(type='Pretrained', prefix='backbone.',
             checkpoint=f'{SCHEME}regnety-32gf_3rdparty-seer_ig1b')


@pytest.mark.parametrize(
    'path',
    sorted(path for path in SEER.rglob('*.py')
           if path.parent.name != '_base_'),
    ids=lambda path: path.name)
def test_every_config_starts_from_an_indexed_trunk_of_its_arch(path):
    cfg = Config.fromfile(str(path))
    init_cfg = cfg.model.backbone.init_cfg
    assert init_cfg.type == 'Pretrained' and init_cfg.prefix == 'backbone.'
    name = init_cfg.checkpoint[len(SCHEME):]
    assert init_cfg.checkpoint.startswith(SCHEME)
    assert name in list_models('*seer*')
    weights = weights_of(name)
    assert (weights.source, weights.backbone_only) == ('vissl', True)
    entry = Config.fromfile(lookup(name).config)
    assert entry.model.backbone.arch == cfg.model.backbone.arch


@pytest.mark.parametrize('name', ['regnety-32gf_seer-linear_in1k',
                                  'regnety-32gf_seer-ft_in1k'])
def test_classification_configs_start_from_the_trunk_as_vissl_does(name):
    cfg = Config.fromfile(str(SEER / f'{name}.py'))
    assert cfg.model.backbone.arch == 'regnety_32gf'
    assert cfg.model.backbone.init_cfg == TRUNK
    assert cfg.data_preprocessor.to_rgb is True
    assert cfg.custom_hooks == []  # no precise BN
    assert 8 * cfg.train_dataloader.batch_size == \
        cfg.auto_scale_lr.base_batch_size == 256
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.momentum, optimizer.nesterov) == \
        ('SGD', 0.9, True)


def test_linear_probe_freezes_the_trunk_and_its_statistics():
    from mmpretrain.apis import get_model
    cfg = Config.fromfile(str(SEER / 'regnety-32gf_seer-linear_in1k.py'))
    with torch.device('meta'):
        model = get_model(cfg).train()
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert not any(m.training for m in model.backbone.modules()
                   if isinstance(m, torch.nn.BatchNorm2d))
    assert (cfg.optim_wrapper.optimizer.lr, cfg.train_cfg.max_epochs,
            cfg.param_scheduler.milestones) == (0.01, 28, [8, 16, 24])


def test_detector_takes_the_trunk_and_rgb_input():
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(
        str(SEER / 'mmdet/faster-rcnn_regnety-32gf-seer_fpn_1x_coco.py'))
    assert cfg.model.backbone.init_cfg == TRUNK
    assert cfg.model.data_preprocessor.bgr_to_rgb is True
    with torch.device('meta'):
        detector = MODELS.build(cfg.model)
    assert list(detector.backbone.stage_widths) == \
        cfg.model.neck.in_channels == [232, 696, 1392, 3712]
