"""The model-zoo API, and mmpretrain's own API with mmregnet installed."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import mmregnet
from mmregnet.apis import HUB_PREFIX

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / 'configs/quickstart/regnet-tiny_1xb64_digits.py')


def test_list_models_with_patterns():
    assert len(mmregnet.list_models('regnet*_8xb*_in1k')) == 24
    assert len(mmregnet.list_models('*_coco')) == 50  # detectors
    assert mmregnet.list_models('regnety-1.6gf_8xb*') == \
        ['regnety-1.6gf_8xb128_in1k']
    assert len(mmregnet.list_models('regnetx-*_8xb64_in1k')) == 7
    assert mmregnet.list_models('nothing*') == []


def test_get_model_by_name_builds_the_indexed_config():
    model = mmregnet.get_model('regnety-400mf_8xb128_in1k')
    assert model.backbone.stage_widths == (48, 104, 208, 440)
    assert model.head.fc.out_features == 1000
    # the prefixed name used in mmpretrain's hub works here too
    model = mmregnet.get_model(HUB_PREFIX + 'regnetx-200mf_8xb128_in1k',
                               backbone=dict(out_indices=(0, 1, 2, 3)))
    assert len(model.extract_feat(torch.rand(1, 3, 64, 64))) == 4


def test_get_model_by_config_file():
    model = mmregnet.get_model(TINY)
    assert model.backbone.stage_widths == (16, 32, 64, 128)


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError) as info:
        mmregnet.get_model('regnetx-400mf_in1k')
    assert 'regnetx-400mf_8xb128_in1k' in str(info.value)
    assert 'list_models' in str(info.value)


def test_pretrained_true_without_published_checkpoint_is_an_error():
    with pytest.raises(ValueError, match='no published checkpoint'):
        mmregnet.get_model('regnety-200mf_8xb128_in1k', pretrained=True)


def test_checkpoint_that_does_not_fit_names_missing_and_unexpected_keys(
        tmp_path):
    source = mmregnet.get_model('regnetx-200mf_8xb128_in1k')
    path = tmp_path / 'x200.pth'
    torch.save({'state_dict': source.state_dict()}, path)
    with pytest.raises(ValueError) as info:
        mmregnet.get_model('regnety-200mf_8xb128_in1k', pretrained=str(path))
    message = str(info.value)
    assert ' missing (backbone.layer1.0.se.conv' in message
    assert 'another model' in message and '\n' not in message
    # and an X checkpoint with an extra key names it as unexpected
    state = source.state_dict()
    state['backbone.extra.weight'] = torch.zeros(1)
    torch.save({'state_dict': state}, path)
    with pytest.raises(ValueError,
                       match=r'1 unexpected \(backbone.extra.weight\)'):
        mmregnet.get_model('regnetx-200mf_8xb128_in1k', pretrained=str(path))


def test_checkpoint_weights_and_class_names_are_loaded(tmp_path):
    source = mmregnet.get_model(TINY)
    path = tmp_path / 'tiny.pth'
    classes = [str(i) for i in range(10)]
    torch.save({'state_dict': source.state_dict(),
                'meta': {'dataset_meta': {'classes': classes}}}, path)
    model = mmregnet.get_model(TINY, pretrained=str(path))
    for key, value in source.state_dict().items():
        assert torch.equal(value, model.state_dict()[key])
    assert model._dataset_meta['classes'] == classes  # the inferencer's


def test_inference_model_on_paths_and_arrays(tmp_path):
    image = tmp_path / 'img.png'
    Image.fromarray(np.random.RandomState(0).randint(
        0, 255, (40, 40, 3), dtype=np.uint8)).save(image)
    model = mmregnet.get_model(TINY)
    result = mmregnet.inference_model(model, str(image))
    # no class names in this config: labels and scores only
    assert set(result) == {'pred_label', 'pred_score', 'pred_scores'}
    assert 0 <= result['pred_label'] < 10
    assert result['pred_score'] == pytest.approx(
        float(result['pred_scores'].max()))
    array = np.asarray(Image.open(image))[..., ::-1].copy()  # BGR array
    results = mmregnet.inference_model(model, [str(image), array])
    assert len(results) == 2
    assert results[0]['pred_label'] == results[1]['pred_label']
    by_name = mmregnet.inference_model('regnetx-200mf_8xb128_in1k',
                                       str(image), pretrained=False)
    assert 0 <= by_name['pred_label'] < 1000
    assert isinstance(by_name['pred_class'], str)  # ImageNet class names


def test_mmpretrain_model_hub_stays_complete_and_gains_prefixed_names():
    code = textwrap.dedent("""
        import json
        import mmpretrain
        from mmpretrain.apis.model import ModelHub
        # import ours before mmpretrain has lazily registered its own index
        assert not ModelHub._models_dict
        import mmregnet.apis
        after = mmpretrain.list_models()
        theirs = mmpretrain.get_model('regnetx-400mf_8xb128_in1k')
        ours = mmpretrain.get_model('mmregnet.regnety-200mf_8xb128_in1k')
        resnet = mmpretrain.get_model('resnet18_8xb32_in1k')
        mmregnet.apis.register_in_mmpretrain()  # idempotent
        print(json.dumps(dict(
            after=after, again=mmpretrain.list_models(),
            theirs=type(theirs.backbone).__module__,
            ours=type(ours.backbone).__module__,
            resnet=type(resnet.backbone).__name__)))
    """)
    baseline_code = ('import json, mmpretrain; '
                     'print(json.dumps(mmpretrain.list_models()))')
    outputs = []
    for source in (baseline_code, code):
        result = subprocess.run([sys.executable, '-c', source],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        outputs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    baseline, state = outputs
    # every classifier: our 24 archs, the 90 converted weights and 15 SEER (the
    # detectors, *_coco, are mmdet's business)
    ours = {HUB_PREFIX + name for name in mmregnet.list_models()
            if not name.endswith('_coco')}
    assert len(ours) == 24 + 90 + 15  # configs, converted, SEER
    assert set(state['after']) == set(baseline) | ours
    assert len(state['after']) == len(baseline) + len(ours)
    assert state['again'] == state['after']
    assert state['theirs'] == 'mmpretrain.models.backbones.regnet'
    assert state['ours'] == 'mmregnet.models.backbones.regnet'
    assert state['resnet'] == 'ResNet'
