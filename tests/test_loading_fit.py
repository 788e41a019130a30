"""Weights load into a model with an mmregnet RegNet exactly, or the load
fails in one line naming the keys and the likely cause with its fix
(mmregnet.models.loading): a deploy-mode checkpoint, the other width
rounding, a headless checkpoint, another num_classes. Fine-tuning may load
partially outside the backbone, said in one line. Evaluation
(tools/test.py, get_model) recognises a deploy checkpoint and builds the
backbone in deploy mode."""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from mmengine.logging import MMLogger
from mmengine.runner import load_checkpoint

import mmregnet
from mmregnet.converters import convert_file
from mmregnet.engine import CheckpointError, read_checkpoint
from mmregnet.models import CheckpointMismatchError, RegNet, exact_loading
from mmregnet.models.loading import backbone_meta
from tests.helpers import randomise_norms
from tools.dataset_converters.prepare_digits import prepare
from tools.deployment.reparameterize_model import main as reparameterize

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / 'configs/quickstart/regnet-tiny_1xb64_digits.py')
IMAGES = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def logits(model, images=IMAGES) -> torch.Tensor:
    """The classifier's scores before the softmax, in eval mode."""
    model.eval()
    with torch.no_grad():
        return model(images, mode='tensor')


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """The quick-start model with non-trivial norms: its checkpoint, the
    deploy checkpoint made from it, and its backbone alone."""
    folder = tmp_path_factory.mktemp('fit')
    model = randomise_norms(mmregnet.get_model(TINY)).eval()
    paths = {name: str(folder / f'{name}.pth')
             for name in ('whole', 'deploy', 'backbone')}
    torch.save(dict(state_dict=model.state_dict(), meta={}), paths['whole'])
    reparameterize([TINY, paths['whole'], paths['deploy']])
    torch.save(
        dict(state_dict={
            f'backbone.{key}': value
            for key, value in model.backbone.state_dict().items()
        }), paths['backbone'])
    paths['logits'] = logits(model)
    return paths


def one_line_error(call) -> str:
    with pytest.raises(CheckpointMismatchError) as info:
        call()
    message = str(info.value)
    assert '\n' not in message
    return message


# silent wrong result 1: a deploy checkpoint -----------------------------
def test_deploy_checkpoint_says_so_in_its_meta(files):
    meta = read_checkpoint(files['deploy'])['meta']
    assert meta['deploy'] is True and meta['width_rounding'] == 'pycls'
    assert meta['arch']['w0'] == 16


def test_evaluation_builds_the_backbone_of_a_deploy_checkpoint(files):
    model = mmregnet.get_model(TINY, pretrained=files['deploy'])
    assert model.backbone.deploy
    torch.testing.assert_close(
        logits(model), files['logits'], atol=1e-4, rtol=1e-4)


def test_fine_tuning_from_a_deploy_checkpoint_is_refused(files):
    model = mmregnet.get_model(TINY)
    message = one_line_error(lambda: load_checkpoint(model, files['deploy']))
    assert message.startswith(f'{files["deploy"]} does not fit the model (')
    assert 'missing (backbone.bn1.weight' in message
    assert 'deploy-mode checkpoint' in message
    assert 'model.backbone.deploy=True' in message


def test_a_deploy_model_refuses_a_plain_checkpoint(files):
    model = mmregnet.get_model(TINY, backbone=dict(deploy=True))
    message = one_line_error(lambda: load_checkpoint(model, files['whole']))
    assert 'drop deploy=True' in message


@pytest.mark.slow
def test_tools_test_py_evaluates_a_deploy_checkpoint_as_its_source(
        files, tmp_path):
    prepare(str(tmp_path / 'digits'))
    out = tmp_path / 'deploy.pkl'
    result = subprocess.run(
        [
            sys.executable, 'tools/test.py', TINY, files['deploy'], '--out',
            str(out), '--work-dir',
            str(tmp_path / 'work'), '--cfg-options',
            f'test_dataloader.dataset.data_root={tmp_path / "digits"}',
            'test_dataloader.num_workers=0'
        ],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    dumped = pickle.loads(out.read_bytes())[:32]
    source = mmregnet.get_model(TINY, pretrained=files['whole'])
    expected = mmregnet.inference_model(
        source, [sample['img_path'] for sample in dumped], batch_size=32)
    torch.testing.assert_close(
        torch.stack([torch.as_tensor(s['pred_score']) for s in dumped]),
        torch.stack([torch.as_tensor(e['pred_scores']) for e in expected]),
        atol=1e-4,
        rtol=1e-4)


# silent wrong result 2: torchvision-rounded widths ------------------------
@pytest.fixture(scope='module')
def torchvision_weights(tmp_path_factory) -> Path:
    """torchvision's RegNetX-400MF (random weights), converted."""
    folder = tmp_path_factory.mktemp('torchvision')
    torch.save(torchvision.models.regnet_x_400mf().state_dict(),
               folder / 'tv.pth')
    convert_file(str(folder / 'tv.pth'), str(folder / 'ours.pth'),
                 'torchvision')
    return folder / 'ours.pth'


def pretrained_backbone(checkpoint: Path, **kwargs) -> RegNet:
    """A RegNetX-400MF initialised as docs/weight_conversion.md says."""
    backbone = RegNet(
        'regnetx_400mf',
        init_cfg=dict(
            type='Pretrained', checkpoint=str(checkpoint), prefix='backbone.'),
        **kwargs)
    backbone.init_weights()
    return backbone


def test_other_width_rounding_names_the_fix(torchvision_weights):
    message = one_line_error(lambda: pretrained_backbone(torchvision_weights))
    assert 'of another shape (layer' in message
    assert "width_rounding='torchvision'" in message


def test_the_right_width_rounding_loads_every_tensor(torchvision_weights):
    backbone = pretrained_backbone(
        torchvision_weights, width_rounding='torchvision')
    state = read_checkpoint(torchvision_weights)['state_dict']
    for key, value in backbone.state_dict().items():
        if 'num_batches_tracked' not in key:
            assert torch.equal(value, state[f'backbone.{key}']), key


# missing and unexpected keys, headless checkpoints, num_classes ----------
def test_a_missing_backbone_tensor_is_named_with_the_count(files, tmp_path):
    state = read_checkpoint(files['whole'])['state_dict']
    del state['backbone.layer1.0.conv2.weight']
    state['backbone.layer9.0.conv1.weight'] = torch.zeros(1)
    torch.save(state, tmp_path / 'edited.pth')
    message = one_line_error(lambda: load_checkpoint(
        mmregnet.get_model(TINY), str(tmp_path / 'edited.pth')))
    assert '1 missing (backbone.layer1.0.conv2.weight)' in message
    assert '1 unexpected (backbone.layer9.0.conv1.weight)' in message


def test_evaluating_a_headless_checkpoint_is_refused(files):
    message = one_line_error(lambda: mmregnet.get_model(
        TINY, pretrained=files['backbone']))
    assert '2 missing (head.fc.weight, head.fc.bias)' in message
    assert 'no head (a backbone-only checkpoint)' in message


def test_evaluating_with_another_num_classes_names_it(files):
    message = one_line_error(lambda: mmregnet.get_model(
        TINY, pretrained=files['whole'], head=dict(num_classes=5)))
    assert 'head.fc.weight 10x128 for 5x128' in message
    assert 'model.head.num_classes=10' in message


def fine_tune_log(model, checkpoint: Path) -> list:
    """Load ``checkpoint`` as training's ``load_from`` does; the lines
    logged about it."""
    logger = MMLogger.get_current_instance()
    lines = []
    handler = _ListHandler(lines)
    logger.addHandler(handler)
    try:
        load_checkpoint(model, str(checkpoint))
    finally:
        logger.removeHandler(handler)
    return [line for line in lines if 'fine-tuning' in line]


class _ListHandler(__import__('logging').Handler):

    def __init__(self, lines):
        super().__init__()
        self.lines = lines

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_fine_tuning_with_another_head_size_says_so_in_one_line(files):
    model = mmregnet.get_model(TINY, head=dict(num_classes=5))
    head = model.head.fc.weight.clone()
    (line, ) = fine_tune_log(model, files['whole'])
    assert 'head.fc.weight 10x128 for 5x128' in line
    assert torch.equal(model.head.fc.weight, head)
    whole = read_checkpoint(files['whole'])['state_dict']
    assert torch.equal(model.backbone.conv1.weight,
                       whole['backbone.conv1.weight'])


def test_fine_tuning_from_a_backbone_checkpoint_keeps_the_head(files):
    model = mmregnet.get_model(TINY)
    (line, ) = fine_tune_log(model, files['backbone'])
    assert '2 missing (head.fc.weight, head.fc.bias)' in line


def test_an_imagenet_classifier_in_a_backbone_checkpoint_is_left_out(
        tmp_path):
    """mmdet's open-mmlab://regnetx_* files: the backbone and ``fc``."""
    source = RegNet('regnetx_200mf')
    state = dict(source.state_dict(), **{
        'fc.weight': torch.zeros(1000, 368),
        'fc.bias': torch.zeros(1000)
    })
    torch.save(state, tmp_path / 'regnetx_200mf.pth')
    backbone = RegNet(
        'regnetx_200mf',
        init_cfg=dict(type='Pretrained',
                      checkpoint=str(tmp_path / 'regnetx_200mf.pth')))
    backbone.init_weights()
    assert torch.equal(backbone.layer4[0].conv1.weight,
                       source.layer4[0].conv1.weight)


def test_a_whole_model_checkpoint_without_prefix_names_the_prefix(files):
    backbone = RegNet(
        dict(w0=16, wa=16.0, wm=2.0, depth=6, group_w=8, se_ratio=0.25),
        stem_channels=16,
        init_cfg=dict(type='Pretrained', checkpoint=files['whole']))
    message = one_line_error(backbone.init_weights)
    assert "add prefix='backbone.'" in message


def test_exact_loading_refuses_what_fine_tuning_accepts(files):
    model = mmregnet.get_model(TINY)
    with exact_loading():
        message = one_line_error(
            lambda: load_checkpoint(model, files['backbone']))
    assert 'no head' in message
    assert isinstance(CheckpointMismatchError(''), CheckpointError)


def test_the_arch_in_a_checkpoints_meta_is_named(tmp_path):
    source = RegNet('regnetx_200mf')
    torch.save(
        dict(state_dict=source.state_dict(), meta=backbone_meta(source)),
        tmp_path / 'x200.pth')
    backbone = RegNet(
        'regnetx_400mf',
        init_cfg=dict(
            type='Pretrained', checkpoint=str(tmp_path / 'x200.pth')))
    message = one_line_error(backbone.init_weights)
    assert "the checkpoint holds arch={'w0': 24, 'wa': 36.44" in message
