"""A damaged checkpoint (cut short, overwritten) is one clear error naming
the file, wherever a checkpoint is read: mmregnet.engine.read_checkpoint
(mmengine's loader of local files), get_model, tools/test.py and
tools/train.py (--resume, load_from). Converters: test_converter_cli.py."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import mmregnet
from mmregnet.engine import CheckpointError, read_checkpoint
from tools.dataset_converters.prepare_digits import prepare

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / 'configs/quickstart/regnet-tiny_1xb64_digits.py')
STATE = {'conv.weight': torch.randn(64, 3, 3, 3), 'fc.bias': torch.zeros(10)}


def damaged(path: Path, damage: str) -> Path:
    """A checkpoint file of ``STATE`` with ``damage`` done to it."""
    if damage.startswith('safetensors'):
        path = path.with_suffix('.safetensors')
        save_file(STATE, path)
    else:
        torch.save(
            dict(state_dict=STATE, meta={}),
            path,
            _use_new_zipfile_serialization=damage != 'legacy, cut')
    data = path.read_bytes()
    kept = {
        'empty': b'',
        'garbage': b'garbage' * 100,
        'last 10 bytes cut': data[:-10]
    }.get(damage, data[:len(data) // 2])
    path.write_bytes(kept)
    return path


@pytest.mark.parametrize('damage', [
    'half cut', 'last 10 bytes cut', 'empty', 'garbage', 'legacy, cut',
    'safetensors, cut'
])
def test_damaged_file_is_named_as_not_a_complete_checkpoint(tmp_path, damage):
    path = damaged(tmp_path / 'model.pth', damage)
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    message = str(info.value)
    assert message.startswith(f'{path} is not a complete checkpoint (')
    assert '\n' not in message


@pytest.mark.parametrize('damage, cause', [
    ('half cut', 'its zip archive is cut short or damaged'),
    ('empty', 'the file is empty'),
    ('garbage', 'it is neither a torch checkpoint nor a safetensors file'),
    ('legacy, cut', 'it ends early or is damaged'),
    ('safetensors, cut',
     'its safetensors header or data is cut short or damaged'),
])
def test_the_cause_is_said_in_our_words(tmp_path, damage, cause):
    path = damaged(tmp_path / 'model.pth', damage)
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    assert str(info.value) == (f'{path} is not a complete checkpoint '
                               f'({cause}; copy or download it again)')


def test_pickled_objects_are_refused_without_advice_to_switch_safety_off(
        tmp_path):
    path = tmp_path / 'model.pth'
    torch.save(dict(state_dict=STATE, meta=dict(epoch=np.int64(3))), path)
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    message = str(info.value)
    assert message.startswith(f'{path} pickles Python objects (numpy.')
    assert 'weights_only' not in message and '\n' not in message


def test_whole_files_still_load_weights_only(tmp_path):
    torch.save(dict(state_dict=STATE), tmp_path / 'model.pth')
    save_file(STATE, tmp_path / 'model.safetensors')
    for path in (tmp_path / 'model.pth', tmp_path / 'model.safetensors'):
        loaded = read_checkpoint(path)
        loaded = loaded.get('state_dict', loaded)
        assert all(torch.equal(loaded[key], STATE[key]) for key in STATE)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        read_checkpoint(tmp_path / 'missing.pth')


def test_missing_safetensors_package_is_not_blamed_on_the_file(
        tmp_path, monkeypatch):
    save_file(STATE, tmp_path / 'model.safetensors')
    monkeypatch.setitem(sys.modules, 'safetensors.torch', None)
    with pytest.raises(ImportError, match='safetensors'):
        read_checkpoint(tmp_path / 'model.safetensors')


def test_get_model_names_the_damaged_file(tmp_path):
    path = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=mmregnet.get_model(TINY).state_dict()), path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(
            CheckpointError, match=f'{path} is not a complete checkpoint'):
        mmregnet.get_model(TINY, pretrained=str(path))


# the tools ------------------------------------------------------------------
@pytest.fixture(scope='module')
def digits(tmp_path_factory):
    root = tmp_path_factory.mktemp('digits')
    prepare(str(root))
    return root


@pytest.fixture(scope='module')
def cut_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint of the quick-start model, its last 100 bytes lost."""
    path = tmp_path_factory.mktemp('checkpoints') / 'epoch_3.pth'
    torch.save(
        dict(state_dict=mmregnet.get_model(TINY).state_dict(), meta={}), path)
    path.write_bytes(path.read_bytes()[:-100])
    return path


def run_tool(args, digits, *options) -> subprocess.CompletedProcess:
    """Run a tool on the digits dataset; ``options``: more --cfg-options."""
    data = [
        f'{loader}.dataset.data_root={digits}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    return subprocess.run(
        [sys.executable, *map(str, args), '--cfg-options', *data, *options],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize(
    'tool', ['test.py', 'train.py --resume', 'train.py load_from'])
def test_tool_given_a_damaged_checkpoint_exits_with_one_line(
        tool, cut_checkpoint, digits, tmp_path):
    before = cut_checkpoint.read_bytes()
    args, options = {
        'test.py': (['tools/test.py', TINY, cut_checkpoint], []),
        'train.py --resume':
        (['tools/train.py', TINY, '--resume', cut_checkpoint], []),
        'train.py load_from': (['tools/train.py',
                                TINY], [f'load_from={cut_checkpoint}']),
    }[tool]
    result = run_tool([*args, '--work-dir', tmp_path], digits, *options)
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        f'error: {cut_checkpoint} is not a complete checkpoint (')
    # nothing overwritten, no checkpoint written
    assert cut_checkpoint.read_bytes() == before
    assert not list(tmp_path.glob('*.pth'))


@pytest.mark.parametrize('tool', ['tools/test.py', 'tools/train.py'])
def test_tool_given_a_missing_checkpoint_names_it(tool, tmp_path):
    missing = tmp_path / 'missing.pth'
    args = [TINY, missing] if tool == 'tools/test.py' else \
        [TINY, '--resume', missing]
    result = subprocess.run([sys.executable, tool, *map(str, args)],
                            cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            capture_output=True,
                            text=True,
                            timeout=600)
    assert result.returncode == 1
    assert result.stderr.strip() == f'error: no such checkpoint: {missing}'
