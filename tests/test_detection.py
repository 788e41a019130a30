"""mmregnet's backbone in mmdet detectors: every detection config builds,
keeps mmdet's RegNet recipe, and loads the weights users already have."""
import importlib.util
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import get_external_models

from .helpers import load_config, randomise_norms

ROOT = Path(__file__).resolve().parents[1]
MMDET_REGNET = Path(importlib.util.find_spec('mmdet').origin).parent / \
    '.mim/configs/regnet'
DET_CONFIGS = sorted((ROOT / 'configs/mmdet').glob('*.py'))
QUICKSTART = sorted((ROOT / 'configs/mmdet/quickstart').glob('*.py'))
PYCLS_BGR = dict(mean=[103.53, 116.28, 123.675], std=[57.375, 57.12, 58.395],
                 bgr_to_rgb=False)
MMDET_RGB = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                 bgr_to_rgb=True)


def _mmdet_name(name: str) -> str:
    """Our config name in mmdet's spelling (regnetx-3.2GF, -4GF, -8GF)."""
    for ours, theirs in (('4.0gf', '4GF'), ('8.0gf', '8GF'), ('gf', 'GF'),
                         ('mf', 'MF')):
        name = name.replace(ours, theirs)
    return name


def _build(cfg, device='cpu'):
    """The config's detector; on the ``'meta'`` device: built as on any
    other, with no time spent drawing initial weights (for tests that read
    none)."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    with torch.device(device):
        return MODELS.build(cfg.model)


def test_families_and_archs_cover_mmdet_regnetx_zoo_and_add_regnety():
    theirs = {p.stem for p in MMDET_REGNET.glob('*.py')}
    ours_x = {_mmdet_name(p.stem) for p in DET_CONFIGS if 'regnetx' in p.stem}
    # all of mmdet's RegNetX detectors, except the one that needs
    # deformable convolutions (mdconv)
    assert theirs - ours_x == {
        'mask-rcnn_regnetx-3.2GF-mdconv-c3-c5_fpn_1x_coco'}
    assert not ours_x - theirs
    ours_y = {p.stem.replace('regnety', 'regnetx') for p in DET_CONFIGS
              if 'regnety' in p.stem}
    assert ours_y == {p.stem for p in DET_CONFIGS if 'regnetx' in p.stem}


@pytest.mark.parametrize('config', DET_CONFIGS + QUICKSTART,
                         ids=lambda p: p.stem)
def test_config_builds_and_feeds_the_fpn_the_backbone_widths(config):
    cfg = load_config(config)
    detector = _build(cfg, 'meta')
    backbone = detector.backbone
    assert type(backbone).__module__.startswith('mmregnet.')
    assert backbone.out_channels == tuple(cfg.model.neck.in_channels)
    assert cfg.default_hooks.portable_checkpoint.type == \
        'mmregnet.PortableCheckpointHook'
    assert cfg.default_hooks.checkpoint.backend_args == dict(
        backend='atomic_local')


@pytest.mark.parametrize('config', DET_CONFIGS, ids=lambda p: p.stem)
def test_config_keeps_the_settings_that_matter_for_regnet(config):
    cfg = load_config(config)
    backbone = cfg.model.backbone
    assert backbone.type == 'mmregnet.RegNet'
    assert backbone.out_indices == (0, 1, 2, 3)
    assert backbone.frozen_stages == 1 and backbone.norm_eval is True
    assert cfg.optim_wrapper.optimizer.weight_decay == 5e-5
    if config.stem.startswith('retinanet'):
        assert cfg.optim_wrapper.clip_grad == dict(max_norm=35, norm_type=2)
    preprocessor = {key: cfg.model.data_preprocessor[key]
                    for key in ('mean', 'std', 'bgr_to_rgb')}
    poly_x = 'regnetx' in config.stem and 'ms-poly' in config.stem
    assert preprocessor == (MMDET_RGB if poly_x else PYCLS_BGR)
    init = backbone.init_cfg
    assert init.type == 'Pretrained'
    if 'regnetx' in config.stem:
        # the ImageNet weights mmdet's own RegNet configs use
        name = init.checkpoint[len('open-mmlab://'):]
        assert init.checkpoint.startswith('open-mmlab://')
        assert name == backbone.arch and name in get_external_models()
    else:
        # an indexed entry's weights: tests/test_weights_in_configs.py
        assert init.checkpoint.startswith('mmregnet://')
        assert init.prefix == 'backbone.'


def _without_scopes(cfg):
    """``cfg`` without the ``_scope_`` keys that ``mmdet::`` bases add."""
    if isinstance(cfg, dict):
        return {k: _without_scopes(v) for k, v in cfg.items()
                if k != '_scope_'}
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(_without_scopes(v) for v in cfg)
    return cfg


@pytest.mark.parametrize('config', [
    p for p in DET_CONFIGS if 'regnetx' in p.stem], ids=lambda p: p.stem)
def test_regnetx_config_is_mmdet_own_recipe_with_our_backbone(config):
    ours = _without_scopes(Config.fromfile(str(config)).to_dict())
    theirs = _without_scopes(Config.fromfile(
        str(MMDET_REGNET / f'{_mmdet_name(config.stem)}.py')).to_dict())
    their_backbone = theirs['model'].pop('backbone')
    our_backbone = ours['model'].pop('backbone')
    assert their_backbone.pop('type') == 'RegNet'
    assert their_backbone.pop('style') == 'pytorch'
    assert our_backbone.pop('type') == 'mmregnet.RegNet'
    assert our_backbone == their_backbone
    # what we add: portable checkpoints, channels_last training (and the
    # variables of our base)
    assert ours['default_hooks']['checkpoint'].pop('backend_args') == dict(
        backend='atomic_local')
    assert ours['default_hooks'].pop('portable_checkpoint') == dict(
        type='mmregnet.PortableCheckpointHook')
    assert ours['default_hooks'].pop('channels_last') == dict(
        type='mmregnet.ChannelsLastHook')
    assert ours.pop('custom_imports') == dict(
        imports=['mmregnet.engine'], allow_failed_imports=False)
    for key in ('regnet_backbone', 'pycls_preprocessor',
                'regnet_default_hooks'):
        ours.pop(key)
    assert ours == theirs


def _same_features(model_a, model_b, size=(2, 3, 128, 160)):
    """Equal preprocessing and backbone + FPN features on random images."""
    torch.manual_seed(0)
    batch = dict(inputs=list(torch.rand(size) * 255))
    model_a.eval(), model_b.eval()
    with torch.no_grad():
        inputs_a = model_a.data_preprocessor(batch)['inputs']
        inputs_b = model_b.data_preprocessor(batch)['inputs']
        torch.testing.assert_close(inputs_a, inputs_b, rtol=0, atol=0)
        for a, b in zip(model_a.extract_feat(inputs_a),
                        model_b.extract_feat(inputs_b)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize('config', [
    'faster-rcnn_regnetx-400mf_fpn_ms-3x_coco',
    'retinanet_regnetx-800mf_fpn_1x_coco',
    'mask-rcnn_regnetx-400mf_fpn_ms-poly-3x_coco',
])
def test_mmdet_published_detector_weights_load_strictly_and_agree(config):
    """mmdet's RegNetX detectors' state dicts are ours (same keys and
    shapes, so the heads are identical) and so are the features: mmdet's
    published checkpoints serve our configs."""
    path = ROOT / 'configs/mmdet' / f'{config}.py'
    theirs_cfg = Config.fromfile(
        str(MMDET_REGNET / f'{_mmdet_name(path.stem)}.py'))
    ours_cfg = Config.fromfile(str(path))
    theirs, ours = _build(theirs_cfg), _build(ours_cfg)
    randomise_norms(theirs)
    state = theirs.state_dict()
    ours.load_state_dict(state, strict=True)  # raises on any mismatch
    assert ours.state_dict().keys() == state.keys()
    _same_features(theirs, ours)


def test_backbone_initialises_from_a_classification_checkpoint(tmp_path):
    from mmpretrain.apis import get_model
    classifier = get_model(str(ROOT / 'configs/regnety-400mf_8xb128_in1k.py'))
    randomise_norms(classifier)
    checkpoint = tmp_path / 'regnety-400mf_in1k.pth'
    torch.save(dict(state_dict=classifier.state_dict(), meta=dict()),
               checkpoint)
    cfg = Config.fromfile(
        str(ROOT / 'configs/mmdet/mask-rcnn_regnety-400mf_fpn_ms-poly-3x'
            '_coco.py'))
    cfg.model.backbone.init_cfg.checkpoint = str(checkpoint)
    detector = _build(cfg)
    detector.init_weights()
    expected = classifier.backbone.state_dict()
    loaded = detector.backbone.state_dict()
    assert loaded.keys() == expected.keys()
    for key in expected:
        assert torch.equal(loaded[key], expected[key]), key


def test_backbone_initialises_from_open_mmlab_names(tmp_path, monkeypatch):
    """``open-mmlab://regnetx_400mf`` (mmdet's RegNet configs) loads the
    mmdet-format ImageNet weights; a local table entry stands in for the
    download (mmengine reads $MMENGINE_HOME/open_mmlab.json)."""
    from mmdet.models.backbones import RegNet as MMDetRegNet
    source = MMDetRegNet('regnetx_400mf')
    randomise_norms(source)
    torch.save(source.state_dict(), tmp_path / 'regnetx_400mf.pth')
    (tmp_path / 'open_mmlab.json').write_text(
        json.dumps({'regnetx_400mf': 'regnetx_400mf.pth'}))
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path))
    cfg = Config.fromfile(
        str(ROOT /
            'configs/mmdet/faster-rcnn_regnetx-400mf_fpn_ms-3x_coco.py'))
    detector = _build(cfg)
    detector.init_weights()
    expected = source.state_dict()
    for key, value in detector.backbone.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_detector_and_classifier_inference_share_a_process():
    """Building a detector sets mmdet's registry scope; classifying
    afterwards must still find mmpretrain's transforms, and vice versa."""
    import numpy as np

    import mmregnet
    detector = mmregnet.get_model(str(QUICKSTART[0]))
    classifier = mmregnet.get_model(
        str(ROOT / 'configs/quickstart/regnet-tiny_1xb64_digits.py'))
    image = np.full((64, 64, 3), 128, np.uint8)
    for _ in range(2):
        assert 0 <= mmregnet.inference_model(classifier, image)[
            'pred_label'] < 10
        sample = mmregnet.inference_model(detector, image)
        assert sample.pred_instances.bboxes.shape[1] == 4


def test_metafile_has_mmdet_published_results_and_none_invented():
    import yaml

    from mmregnet.apis import load_model_index
    theirs = {m['Name']: m for m in yaml.safe_load(
        (MMDET_REGNET / 'metafile.yml').read_text())['Models']}
    entries = {name: meta for name, meta in load_model_index().items()
               if name.endswith('_coco')}
    assert {Path(meta.config).stem for meta in entries.values()} == {
        p.stem for p in DET_CONFIGS} == set(entries)
    for name, meta in entries.items():
        tasks = {result.task: result.metrics for result in meta.results}
        assert set(tasks) == ({'Object Detection', 'Instance Segmentation'}
                              if 'mask' in name else {'Object Detection'})
        if 'regnetx' in name:
            published = theirs[_mmdet_name(name)]
            assert meta.weights == published['Weights']
            assert tasks == {r['Task']: r['Metrics']
                             for r in published['Results']}
            assert meta.metadata.data['Training Memory (GB)'] == \
                published['Metadata']['Training Memory (GB)']
        else:
            assert meta.weights is None
            assert all(metrics == {} for metrics in tasks.values())
