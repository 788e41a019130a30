"""Import from Hugging Face transformers (tools/model_converters/
hf2mmregnet.py): random transformers RegNets (X and Y of two published
archs, one of explicit stages with its own labels, one without a head),
norms' statistics randomised, written by ``save_pretrained``, convert into
a checkpoint and a config beside it that build the same model: logits and
every stage's output equal transformers' (fp32, 1e-5). transformers runs in
its own interpreter (tests/transformers_env.py)."""
import json

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmregnet.apis import get_model, inference_model
from mmregnet.converters.hf import import_main
from tests.helpers import mmengine_log
from tests.hf_side import fixed_input
from tests.peers import one_thread  # noqa: F401 (fixture)
from tests.transformers_env import pinned_transformers, run_transformers

TOLERANCE = 1e-5
LABELS = {0: 'cat', 1: 'dog', 2: 'fox'}
# name: (RegNetConfig fields, with a head, the arch the import finds);
# the published two are transformers' facebook/regnet-x-002 and -y-002; the
# headless one is saved in shards
CASES = {
    'regnet-x-002': (dict(depths=[1, 1, 4, 7], hidden_sizes=[24, 56, 152,
                                                             368],
                          groups_width=8, layer_type='x', num_labels=1000),
                     True, 'regnetx_200mf'),
    'regnet-y-002': (dict(depths=[1, 1, 4, 7], hidden_sizes=[24, 56, 152,
                                                             368],
                          groups_width=8, layer_type='y', num_labels=1000),
                     True, 'regnety_200mf'),
    'custom-y-3-labels': (dict(embedding_size=16, depths=[1, 2, 1],
                               hidden_sizes=[16, 32, 48], groups_width=8,
                               layer_type='y', id2label=LABELS,
                               label2id={v: k for k, v in LABELS.items()}),
                          True, dict(depths=[1, 2, 1], widths=[16, 32, 48],
                                     group_widths=[8, 8, 8],
                                     bot_muls=[1.0, 1.0, 1.0],
                                     se_ratio=0.25)),
    'headless-x': (dict(depths=[1, 1, 2, 1], hidden_sizes=[16, 32, 64, 96],
                        groups_width=16, layer_type='x'), False,
                   dict(depths=[1, 1, 2, 1], widths=[16, 32, 64, 96],
                        group_widths=[16, 16, 16, 16],
                        bot_muls=[1.0, 1.0, 1.0, 1.0], se_ratio=0.0)),
}


@pytest.fixture(scope='module')
def hf_models(tmp_path_factory):
    """name -> (save_pretrained folder, transformers' outputs)."""
    root = tmp_path_factory.mktemp('hf')
    jobs = [
        dict(action='make', config=config, head=head, dir=str(root / name),
             seed=index)
        for index, (name, (config, head, _)) in enumerate(CASES.items())
    ]
    jobs[-1]['max_shard_size'] = '40KB'  # headless-x, in shards
    results = run_transformers(jobs, pinned_transformers(), root)
    return {name: (root / name, result)
            for name, result in zip(CASES, results)}


def stage_outputs(model, x):
    """The classifier's logits (None without a head's use) and every
    stage's output."""
    backbone = model.backbone
    outputs = []
    hooks = [
        getattr(backbone, name).register_forward_hook(
            lambda module, inputs, output: outputs.append(output))
        for name in backbone.res_layers
    ]
    with torch.no_grad():
        logits = model(x, mode='tensor')
    for hook in hooks:
        hook.remove()
    return logits, outputs


@pytest.mark.parametrize('name', list(CASES))
def test_transformers_model_converts_to_identical_predictions(
        name, hf_models, tmp_path, caplog):
    folder, expected = hf_models[name]
    _, head, arch = CASES[name]
    dst = tmp_path / 'ours.pth'
    assert import_main([str(folder), str(dst)]) == 0
    config = Config.fromfile(str(dst.with_suffix('.py')))
    assert config.model.backbone.arch == arch
    with mmengine_log(caplog):
        model = get_model(config, pretrained=str(dst)).eval()
    logits, stages = stage_outputs(model, fixed_input())
    assert len(stages) == len(expected['stages'])
    for index, (stage, peer) in enumerate(zip(stages, expected['stages'])):
        torch.testing.assert_close(
            stage, peer, rtol=0, atol=TOLERANCE, msg=f'stage {index + 1}')
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['converted_from']['source'] == 'transformers'
    assert (folder / 'model.safetensors.index.json').exists() is (
        name == 'headless-x')
    assert meta['backbone_only'] is not head
    if head:
        torch.testing.assert_close(
            logits, expected['logits'], rtol=0, atol=TOLERANCE)
        assert 'backbone only' not in caplog.text
    else:
        torch.testing.assert_close(
            stages[-1].mean((2, 3)), expected['pooled'], rtol=0,
            atol=TOLERANCE)
        assert 'holds a backbone only: the head' in caplog.text


def test_labels_and_preprocessing_come_from_the_saved_folder(
        hf_models, tmp_path):
    folder, _ = hf_models['custom-y-3-labels']
    dst = tmp_path / 'ours.pth'
    assert import_main([str(folder), str(dst)]) == 0
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['dataset_meta']['classes'] == ['cat', 'dog', 'fox']
    config = Config.fromfile(str(dst.with_suffix('.py')))
    assert config.model.head.num_classes == 3
    assert config.model.backbone.stem_channels == 16
    # ConvNextImageProcessor(crop_pct=0.875): short side 256, crop 224
    assert [step.get('scale') or step.get('crop_size')
            for step in config.test_pipeline[1:3]] == [256, 224]
    assert config.data_preprocessor.mean == pytest.approx(
        [123.675, 116.28, 103.53])
    assert config.data_preprocessor.std == pytest.approx(
        [58.395, 57.12, 57.375])
    image = np.random.default_rng(0).integers(0, 256, (40, 48, 3),
                                              dtype=np.uint8)
    result = inference_model(
        get_model(config, pretrained=str(dst)), image)
    assert result['pred_class'] in ('cat', 'dog', 'fox')


def write_folder(folder, **config):
    folder.mkdir()
    (folder / 'config.json').write_text(json.dumps(
        dict(model_type='regnet', **config)))
    torch.save({}, folder / 'pytorch_model.bin')


@pytest.mark.parametrize('config,message', [
    (dict(hidden_act='gelu'), "hidden_act='gelu' is not supported"),
    (dict(layer_type='z'), "layer_type='z' is not supported"),
    (dict(num_channels=1), 'num_channels=1 is not supported'),
    # transformers' regnet-y-2560-seer config: 5088 channels in 7 groups
    (dict(depths=[3, 7, 16, 1], hidden_sizes=[640, 1696, 2544, 5088],
          groups_width=640), 'config.json hidden_sizes=[640, 1696, 2544, '
     '5088], groups_width=640'),
])
def test_config_mmregnet_cannot_build_is_one_line_and_writes_nothing(
        tmp_path, capsys, config, message):
    write_folder(tmp_path / 'hf', **config)
    dst = tmp_path / 'ours.pth'
    assert import_main([str(tmp_path / 'hf'), str(dst)]) == 1
    error = capsys.readouterr().err
    assert message in error.splitlines()[0]
    assert not dst.exists() and not dst.with_suffix('.py').exists()


def test_folder_without_config_or_weights_is_named(tmp_path, capsys):
    (tmp_path / 'empty').mkdir()
    assert import_main([str(tmp_path / 'empty'), str(tmp_path / 'x')]) == 1
    assert 'no config.json in' in capsys.readouterr().err
    write_folder(tmp_path / 'hf')
    (tmp_path / 'hf' / 'pytorch_model.bin').unlink()
    assert import_main([str(tmp_path / 'hf'), str(tmp_path / 'x')]) == 1
    assert 'no weights in' in capsys.readouterr().err
