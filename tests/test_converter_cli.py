"""The converters' command line (tools/model_converters/*2mmregnet.py,
mmregnet.converters.main): what it reports, what it writes, and that on any
error it writes nothing."""
import argparse
import subprocess
import sys

import pytest
import torch

from mmregnet.apis import get_model
from mmregnet.converters import ConversionError, convert_file
from mmregnet.engine import CheckpointError
from tests.peers import one_thread  # noqa: F401 (fixture)
from tests.peers import (ROOT, random_model, run_converter, timm_model,
                         torchvision_model, vissl_checkpoint)


@pytest.fixture(scope='module')
def x400mf(tmp_path_factory):
    """torchvision's regnet_x_400mf with random weights, saved under the
    file name of its IMAGENET1K_V1 weights."""
    path = tmp_path_factory.mktemp('tv') / 'regnet_x_400mf-adf1edd5.pth'
    torch.save(random_model(torchvision_model, 'regnet_x_400mf').state_dict(),
               path)
    return path


def test_cli_converts_and_names_arch_preprocessing_and_config(
        x400mf, tmp_path):
    dst = tmp_path / 'x400mf.pth'
    result = subprocess.run(
        [sys.executable, 'tools/model_converters/torchvision2mmregnet.py',
         str(x400mf), str(dst)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "torchvision regnetx_400mf (width_rounding='torchvision'), " \
        '1000 classes' in result.stdout
    assert 'input: RGB, mean=[123.675, 116.28, 103.53], ' \
        'std=[58.395, 57.12, 57.375]' in result.stdout
    assert 'to_rgb=True' in result.stdout
    config = 'configs/converted/regnetx-400mf_3rdparty-tv-v1_in1k.py'
    assert f'config: {config}' in result.stdout
    checkpoint = torch.load(dst, weights_only=True)
    assert set(checkpoint) == {'state_dict', 'meta'}
    meta = checkpoint['meta']
    assert (meta['arch'], meta['width_rounding']) == ('regnetx_400mf',
                                                      'torchvision')
    assert meta['converted_from']['source'] == 'torchvision'
    assert meta['input']['channel_order'] == 'RGB'
    # the tensors are torchvision's, unchanged, and load strictly
    model = get_model(str(ROOT / config), pretrained=str(dst))
    peer = torch.load(x400mf, weights_only=True)
    assert torch.equal(model.backbone.layer4[-1].conv3.weight,
                       peer['trunk_output.block4.block4-11.f.c.0.weight'])
    assert torch.equal(model.head.fc.bias, peer['fc.bias'])
    assert model._dataset_meta['classes'][0].startswith('tench')


def test_configs_are_listed_when_the_file_does_not_tell_the_weights(
        x400mf, tmp_path, capsys):
    src = tmp_path / 'mine.pth'
    src.write_bytes(x400mf.read_bytes())
    assert run_converter('torchvision', src, tmp_path / 'ours.pth') == 0
    out = capsys.readouterr().out
    assert 'configs that take these weights' in out
    for weights in ('tv-v1', 'tv-v2'):
        assert f'regnetx-400mf_3rdparty-{weights}_in1k.py' in out
    assert 'pycls_in1k' not in out  # other widths


def test_unknown_source_key_is_an_error_and_nothing_is_written(
        x400mf, tmp_path, capsys):
    state = torch.load(x400mf, weights_only=True)
    state['trunk_output.block1.block1-0.f.extra.weight'] = torch.zeros(1)
    torch.save(state, tmp_path / 'src.pth')
    dst = tmp_path / 'dst.pth'
    assert run_converter('torchvision', tmp_path / 'src.pth', dst) == 1
    error = capsys.readouterr().err
    assert 'trunk_output.block1.block1-0.f.extra.weight' in error
    assert f'nothing written to {dst}' in error
    assert sorted(path.name for path in tmp_path.iterdir()) == ['src.pth']
    # an existing destination is left as it was
    dst.write_bytes(b'earlier')
    assert run_converter('torchvision', tmp_path / 'src.pth', dst) == 1
    assert dst.read_bytes() == b'earlier'
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        'dst.pth', 'src.pth']


def test_arch_option_checks_the_checkpoint(x400mf, tmp_path, capsys):
    dst = tmp_path / 'ours.pth'
    assert run_converter('torchvision', x400mf, dst, '--arch',
                         'regnetx_800mf') == 1
    error = capsys.readouterr().err
    assert 'the checkpoint is not a regnetx_800mf' in error
    assert 'it matches regnetx_400mf' in error
    assert not dst.exists()
    assert run_converter('torchvision', x400mf, dst, '--arch',
                         'regnetx_400mf') == 0
    assert "regnetx_400mf (width_rounding='torchvision')" in \
        capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse: not an arch name
        run_converter('torchvision', x400mf, dst, '--arch', 'regnetx_401mf')


def test_training_checkpoints_and_missing_counters(x400mf, tmp_path):
    state = torch.load(x400mf, weights_only=True)
    counters = [key for key in state if key.endswith('num_batches_tracked')]
    for key in counters:
        del state[key]
    torch.save(dict(model=state, epoch=599), tmp_path / 'train.pth')
    assert run_converter('torchvision', tmp_path / 'train.pth',
                         tmp_path / 'ours.pth') == 0
    converted = torch.load(tmp_path / 'ours.pth')['state_dict']
    assert converted['backbone.bn1.num_batches_tracked'] == 0
    # no state dict at all, or pickled objects weights_only refuses
    torch.save(dict(epoch=599), tmp_path / 'empty.pth')
    with pytest.raises(ConversionError, match="no torchvision state dict.*"
                       "epoch.*'model'"):
        convert_file(tmp_path / 'empty.pth', tmp_path / 'x.pth',
                     'torchvision')
    torch.save(dict(model=state, args=argparse.Namespace(lr=0.1)),
               tmp_path / 'args.pth')
    with pytest.raises(CheckpointError,
                       match=r'pickles Python objects \(argparse.Namespace\)'):
        convert_file(str(tmp_path / 'args.pth'), tmp_path / 'x.pth',
                     'torchvision')
    assert not (tmp_path / 'x.pth').exists()


def test_the_source_is_never_overwritten(x400mf):
    with pytest.raises(ConversionError, match='refusing to overwrite'):
        convert_file(str(x400mf), str(x400mf), 'torchvision')


def test_missing_source_is_an_error_and_nothing_is_written(tmp_path, capsys):
    src, dst = tmp_path / 'missing.pth', tmp_path / 'dst.pth'
    with pytest.raises(ConversionError, match='no such file: .*missing'):
        convert_file(src, dst, 'torchvision')
    assert not dst.exists()
    # an existing destination: the same error, and it is left as it was
    dst.write_bytes(b'earlier')
    with pytest.raises(ConversionError, match='no such file: .*missing'):
        convert_file(src, dst, 'torchvision')
    assert run_converter('torchvision', src, dst) == 1
    error = capsys.readouterr().err
    assert f'no such file: {src}' in error
    assert f'nothing written to {dst}' in error
    assert dst.read_bytes() == b'earlier'
    assert sorted(path.name for path in tmp_path.iterdir()) == ['dst.pth']


@pytest.mark.parametrize('cut', ['half', 'all but 10 bytes'])
def test_truncated_source_is_named_and_nothing_is_written(
        x400mf, tmp_path, capsys, cut):
    data = x400mf.read_bytes()
    src, dst = tmp_path / 'cut.pth', tmp_path / 'dst.pth'
    src.write_bytes(data[:len(data) // 2] if cut == 'half' else data[:-10])
    dst.write_bytes(b'earlier')
    assert run_converter('torchvision', src, dst) == 1
    error = capsys.readouterr().err
    assert f'error: {src} is not a complete checkpoint' in error
    assert f'nothing written to {dst}' in error
    assert dst.read_bytes() == b'earlier'
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        'cut.pth', 'dst.pth']


@pytest.fixture(scope='module')
def y400mf_heads(tmp_path_factory):
    """timm's regnety_004 with random weights: saved with a 10-class head,
    and as a self-supervised vissl trunk (no head)."""
    folder = tmp_path_factory.mktemp('heads')
    state = random_model(timm_model, 'regnety_004').state_dict()
    torch.save(vissl_checkpoint(state, head=False), folder / 'trunk.torch')
    state['head.fc.weight'] = state['head.fc.weight'][:10]
    state['head.fc.bias'] = state['head.fc.bias'][:10]
    torch.save(state, folder / 'ten.pth')
    return dict(timm=folder / 'ten.pth', vissl=folder / 'trunk.torch')


@pytest.mark.parametrize('source, classes', [('timm', 10), ('vissl', 0)])
def test_conversion_params_count_the_checkpoints_own_head(
        y400mf_heads, source, classes, tmp_path):
    conversion, checkpoint = convert_file(y400mf_heads[source],
                                          tmp_path / 'ours.pth', source)
    assert conversion.num_classes == classes
    assert conversion.params == sum(
        tensor.numel() for key, tensor in checkpoint['state_dict'].items()
        if not key.endswith(('running_mean', 'running_var',
                             'num_batches_tracked')))


@pytest.mark.parametrize('source, head_option', [
    ('timm', 'with --cfg-options model.head.num_classes=10'),
    ('vissl', None),  # backbone only: the config's head stays
])
def test_another_head_lists_the_backbones_configs_and_what_to_set(
        y400mf_heads, tmp_path, capsys, source, head_option):
    """The index's configs are ImageNet classifiers: those of the same
    backbone take the weights; a head of another size is set, a
    backbone-only checkpoint is never given one of 0 classes."""
    assert run_converter(source, y400mf_heads[source],
                         tmp_path / 'ours.pth') == 0
    out = capsys.readouterr().out
    assert 'regnety-400mf_3rdparty-timm-pycls_in1k.py' in out
    head_lines = [line.strip() for line in out.splitlines()
                  if 'num_classes=' in line]
    assert head_lines == ([head_option] if head_option else [])
