"""Export to Hugging Face transformers (tools/model_converters/
mmregnet2hf.py): mmregnet models of a published arch (pycls's BGR recipe)
and of explicit stages with the config's own class names, and a
backbone-only checkpoint, written as a transformers folder, load with
``from_pretrained`` to the same outputs (fp32, 1e-5), in ``pipeline`` with
the config's class names, and convert back to the identical state dict.
What transformers cannot express is refused, naming the field, and nothing
is written."""
import pytest
import torch
from mmengine.config import Config

from mmregnet.apis import get_model
from mmregnet.converters.hf import export_main, import_main
from tests.helpers import randomise_norms
from tests.hf_side import fixed_input
from tests.peers import one_thread  # noqa: F401 (fixture)
from tests.peers import ROOT
from tests.transformers_env import pinned_transformers, run_transformers

TOLERANCE = 1e-5
CLASSES = ['cat', 'dog', 'fox']
EXPLICIT = dict(
    depths=[1, 2, 1], widths=[16, 32, 48], group_widths=8, se_ratio=0.25)
CUSTOM_CONFIG = f"""
_base_ = '{ROOT}/configs/converted/_base_/rgb_in1k.py'
model = dict(
    backbone=dict(arch=dict(_delete_=True, **{EXPLICIT!r}), stem_channels=16),
    head=dict(num_classes=3, in_channels=48, topk=(1, )))
test_dataloader = dict(dataset=dict(classes={CLASSES!r}))
"""


def save_random(config, path, backbone_only=False):
    """A random-weight model of ``config``, saved as mmregnet does."""
    torch.manual_seed(0)
    model = randomise_norms(get_model(config)).eval()
    state_dict = model.state_dict()
    if backbone_only:
        state_dict = {k: v for k, v in state_dict.items()
                      if k.startswith('backbone.')}
    torch.save(dict(state_dict=state_dict,
                    meta=dict(backbone_only=backbone_only)), path)
    return model


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """name -> (our model, config, checkpoint, transformers' result)."""
    root = tmp_path_factory.mktemp('export')
    (root / 'custom.py').write_text(CUSTOM_CONFIG)
    cases = {
        'named-bgr': (ROOT / 'configs/regnety-200mf_8xb128_in1k.py', False),
        'explicit': (root / 'custom.py', False),
        'backbone-only': (root / 'custom.py', True),
    }
    models, jobs = {}, []
    for name, (config, backbone_only) in cases.items():
        checkpoint = root / f'{name}.pth'
        model = save_random(str(config), checkpoint, backbone_only)
        assert export_main([str(config), str(checkpoint),
                            str(root / name)]) == 0
        models[name] = (model, str(config), checkpoint)
        jobs.append(dict(action='load', dir=str(root / name),
                         pipeline=not backbone_only))
    results = run_transformers(jobs, pinned_transformers(), root)
    return {name: (*models[name], root / name, result)
            for name, result in zip(cases, results)}


def test_published_arch_of_bgr_weights_predicts_alike(exported):
    model, _, _, _, result = exported['named-bgr']
    assert result['class'] == 'RegNetForImageClassification'
    x = fixed_input()
    with torch.no_grad():  # pycls's weights take BGR; transformers RGB
        logits = model(x.flip(1), mode='tensor')
    torch.testing.assert_close(logits, result['logits'], rtol=0,
                               atol=TOLERANCE)
    assert len(result['id2label']) == 1000


def test_explicit_stages_predict_alike_with_the_configs_class_names(
        exported):
    model, _, _, _, result = exported['explicit']
    with torch.no_grad():
        logits = model(fixed_input(), mode='tensor')
    torch.testing.assert_close(logits, result['logits'], rtol=0,
                               atol=TOLERANCE)
    assert list(result['id2label'].values()) == CLASSES
    assert sorted(result['labels']) == sorted(CLASSES)


def test_backbone_only_checkpoint_exports_as_regnet_model(exported):
    model, _, _, _, result = exported['backbone-only']
    assert result['class'] == 'RegNetModel'
    with torch.no_grad():
        stages = model.backbone(fixed_input())
    torch.testing.assert_close(stages[-1].mean((2, 3)), result['pooled'],
                               rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize('name', ['explicit', 'backbone-only'])
def test_round_trip_gives_the_identical_state_dict(exported, name,
                                                   tmp_path):
    model, _, checkpoint, folder, _ = exported[name]
    assert import_main([str(folder), str(tmp_path / 'back.pth')]) == 0
    back = torch.load(tmp_path / 'back.pth', weights_only=True)['state_dict']
    original = torch.load(checkpoint, weights_only=True)['state_dict']
    assert back.keys() == original.keys()
    for key, value in original.items():
        assert torch.equal(back[key], value), key


@pytest.mark.parametrize('backbone,field', [
    (dict(arch=dict(EXPLICIT, bot_muls=0.5)), 'bottleneck ratio bot_mul=0.5'),
    (dict(arch=dict(EXPLICIT, group_widths=[8, 16, 8])),
     'group widths [8, 16, 8]'),
    (dict(arch=dict(EXPLICIT, se_ratio=0.5)), 'se_ratio=0.5'),
    (dict(strides=(1, 2, 2)), 'model.backbone.strides=[1, 2, 2]'),
    (dict(dilations=(1, 1, 2)), 'model.backbone.dilations=[1, 1, 2]'),
    (dict(norm_cfg=dict(type='GN', num_groups=4)),
     "model.backbone.norm_cfg type='GN'"),
    (dict(act_cfg=dict(type='SiLU')), "model.backbone.act_cfg type='SiLU'"),
])
def test_what_transformers_cannot_express_is_refused(tmp_path, capsys,
                                                     backbone, field):
    config = Config.fromstring(CUSTOM_CONFIG, '.py')
    config.merge_from_dict(dict(model=dict(backbone=backbone)))
    config.dump(tmp_path / 'config.py')
    torch.save({}, tmp_path / 'empty.pth')
    assert export_main([str(tmp_path / 'config.py'),
                        str(tmp_path / 'empty.pth'),
                        str(tmp_path / 'out')]) == 1
    error = capsys.readouterr().err.splitlines()
    assert field in error[0] and 'transformers' in error[0]
    assert error[1] == f'nothing written to {tmp_path / "out"}'
    assert not (tmp_path / 'out').exists()


def test_checkpoint_of_another_model_is_refused(exported, tmp_path, capsys):
    _, _, checkpoint, _, _ = exported['explicit']
    config = ROOT / 'configs/regnety-200mf_8xb128_in1k.py'
    assert export_main([str(config), str(checkpoint),
                        str(tmp_path / 'out')]) == 1
    assert 'does not fit the config' in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


def test_damaged_checkpoint_is_one_line_naming_it(tmp_path, capsys):
    (tmp_path / 'custom.py').write_text(CUSTOM_CONFIG)
    (tmp_path / 'cut.pth').write_bytes(b'PK\x03\x04 cut short')
    assert export_main([str(tmp_path / 'custom.py'), str(tmp_path / 'cut.pth'),
                        str(tmp_path / 'out')]) == 1
    error = capsys.readouterr().err.splitlines()
    assert error[0].startswith('error: ') and 'cut.pth' in error[0]
    assert not (tmp_path / 'out').exists()
