"""Checkpoint writing and loading, dataset checks, CPU distributed set-up."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import get_file_backend
from mmengine.logging import HistoryBuffer

from mmregnet.engine import (AtomicLocalBackend, DatasetNotFoundError,
                             PortableCheckpointHook, atomic_write,
                             check_dataset_paths, load_runner_config,
                             to_plain_data)

ROOT = Path(__file__).resolve().parents[1]


def test_atomic_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / 'sub' / 'ckpt.pth'
    atomic_write(b'first', path)
    atomic_write(b'second', path)
    assert path.read_bytes() == b'second'
    assert os.listdir(path.parent) == ['ckpt.pth']


def test_failed_write_keeps_the_previous_file_and_no_temporary(
        tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.pth'
    atomic_write(b'complete checkpoint', path)

    def crash(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', crash)
    with pytest.raises(OSError, match='disk full'):
        atomic_write(b'half', path)
    assert path.read_bytes() == b'complete checkpoint'
    assert os.listdir(tmp_path) == ['ckpt.pth']


def test_atomic_backend_is_what_the_checkpoint_hook_gets(tmp_path):
    backend = get_file_backend(
        str(tmp_path), backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put_text('epoch_3.pth', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'last_checkpoint').read_text() == 'epoch_3.pth'


def test_training_state_becomes_plain_data_and_comes_back(tmp_path):
    buffer = HistoryBuffer([1.0, 2.5], [1, 2], max_length=10)
    checkpoint = {
        'meta': {'seed': np.int64(3), 'ratio': np.float32(0.5),
                 'shape': (np.int64(1), 2)},
        'message_hub': {'log_scalars': {'train/loss': buffer},
                        'runtime_info': {'arr': np.arange(3)}},
        'state_dict': {'w': torch.ones(2)},
    }
    hook = PortableCheckpointHook()
    hook.before_save_checkpoint(None, checkpoint)
    path = tmp_path / 'c.pth'
    torch.save(checkpoint, path)
    loaded = torch.load(path, weights_only=True)  # no allow-list needed
    assert loaded['meta'] == {'seed': 3, 'ratio': 0.5, 'shape': (1, 2)}
    hook.after_load_checkpoint(None, loaded)
    restored = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(restored, HistoryBuffer)
    assert restored.max_length == 10
    for a, b in zip(restored.data, buffer.data):
        np.testing.assert_array_equal(a, b)
    assert loaded['message_hub']['runtime_info']['arr'] == [0, 1, 2]


def test_plain_data_keeps_tensors_and_containers():
    data = {'t': torch.arange(3), 'l': [np.float64(1.5), 'x'], 'n': None}
    plain = to_plain_data(data)
    assert plain['t'] is data['t']
    assert plain['l'] == [1.5, 'x'] and type(plain['l'][0]) is float


def test_missing_imagenet_names_the_path_and_how_to_prepare_it(tmp_path):
    cfg = Config.fromfile(str(ROOT / 'configs/regnetx-400mf_8xb128_in1k.py'))
    with pytest.raises(DatasetNotFoundError) as info:
        check_dataset_paths(cfg, ['train_dataloader', 'val_dataloader'])
    message = str(info.value)
    assert str(Path('data/imagenet').resolve()) in message
    assert 'dataset_prepare' in message and '--cfg-options' in message


def test_train_py_fails_at_once_without_imagenet(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / 'tools/train.py'),
         str(ROOT / 'configs/regnetx-400mf_8xb128_in1k.py')],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert str(tmp_path / 'data/imagenet') in result.stderr
    assert not (tmp_path / 'work_dirs').exists()


def test_present_dataset_passes_the_check(tmp_path):
    (tmp_path / 'train').mkdir()
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        type='CustomDataset', data_root=str(tmp_path), data_prefix='train'))))
    check_dataset_paths(cfg, ['train_dataloader', 'val_dataloader'])


LAUNCHED = """
import json
import torch.distributed as dist
from mmengine.config import Config
from mmregnet.engine import init_cpu_distributed
none = init_cpu_distributed(Config(dict(launcher='none')))
started_for_none = dist.is_initialized()
cfg = Config(dict(launcher='pytorch'))
pytorch = init_cpu_distributed(cfg)
print(json.dumps(dict(
    none=none, started_for_none=started_for_none, pytorch=pytorch,
    backend=dist.get_backend(), world_size=dist.get_world_size(),
    wrapper=cfg.model_wrapper_cfg.to_dict())))
dist.destroy_process_group()
"""


def test_cpu_distributed_set_up_only_for_the_pytorch_launcher(tmp_path):
    """In a process started the way torchrun starts one (its environment
    variables; port 0: any free one; no GPU visible), launcher 'none'
    starts nothing and 'pytorch' starts a gloo group and lets DDP wrap the
    CPU model without device ids."""
    script = tmp_path / 'launched.py'
    script.write_text(LAUNCHED)
    env = dict(
        os.environ,
        RANK='0',
        LOCAL_RANK='0',
        WORLD_SIZE='1',
        LOCAL_WORLD_SIZE='1',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT='0',
        CUDA_VISIBLE_DEVICES='',
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get('PYTHONPATH')])))
    result = subprocess.run([sys.executable, str(script)],
                            cwd=tmp_path,
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == dict(
        none=False, started_for_none=False, pytorch=True, backend='gloo',
        world_size=1,
        wrapper=dict(type='MMDistributedDataParallel', device_ids=None))


def test_loaders_without_workers_drop_persistent_workers():
    cfg = load_runner_config(
        str(ROOT / 'configs/regnetx-400mf_8xb128_in1k.py'),
        cfg_options={'train_dataloader.num_workers': 0})
    assert 'persistent_workers' not in cfg.train_dataloader
    assert cfg.val_dataloader.persistent_workers is True
    assert cfg.val_dataloader.num_workers == 8
