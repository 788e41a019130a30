"""Sharded training end to end: the digits quick start trained with --fsdp
on 2 CPU processes (gloo) equals single-process training of the same
global batch, its consolidated checkpoint loads in one process, and a
killed-then-resumed sharded run equals the uninterrupted one."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.end_to_end import free_port
from tests.record_hooks import fixed_images
from tools.dataset_converters.prepare_digits import prepare

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / 'configs/quickstart/regnet-tiny_1xb64_digits.py'
IMAGES, GLOBAL_BATCH, EPOCHS = 192, 32, 4  # 6 iterations per epoch
# the first epoch's losses (6 iterations at the warm-up learning rate) of
# 2-process FSDP and 1-process training: measured 1.6e-3 apart at most;
# later iterations drift further apart (docs/testing.md)
LOSS_RTOL = 1e-2

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def digits(tmp_path_factory):
    root = tmp_path_factory.mktemp('digits')
    prepare(str(root))
    return root


def _write_config(folder: Path, digits: Path, hooks: str = '') -> Path:
    """The quick start with per-image norms (GroupNorm: BatchNorm's batch
    statistics differ between one batch of 32 and two of 16, and CPUs have
    no SyncBatchNorm), no random augmentation, 192 images, the quick
    start's schedule (its 2 warm-up epochs, then cosine), the test hooks,
    and ``hooks`` appended."""
    path = folder / 'config.py'
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""
_base_ = [{str(CONFIG)!r}]
custom_imports = dict(imports=['tests.record_hooks', 'tests.kill_hook'],
                      allow_failed_imports=False)
model = dict(backbone=dict(norm_cfg=dict(type='GN', num_groups=8)))
train_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(
        data_root={str(digits)!r},
        indices=list(range(0, 1437, 7))[:{IMAGES}],
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))
train_cfg = dict(max_epochs={EPOCHS}, val_interval=100)
val_cfg = val_dataloader = val_evaluator = None
default_hooks = dict(logger=dict(interval=1))
custom_hooks = [
    dict(type='RecordGlobalLossHook', path={str(folder / 'losses.json')!r}),
    dict(type='SaveLogitsHook', path={str(folder / 'logits.pth')!r}),
    {hooks}
]
""")
    return path


def _train(config: Path, work_dir: Path, processes: int, *options,
           expect_kill=False):
    if processes == 1:
        command = [sys.executable, 'tools/train.py', str(config)]
        batch = GLOBAL_BATCH
    else:
        command = ['bash', 'tools/dist_train.sh', str(config),
                   str(processes), '--fsdp']
        batch = GLOBAL_BATCH // processes
    command += ['--work-dir', str(work_dir), *options, '--cfg-options',
                f'train_dataloader.batch_size={batch}',
                f'load_from={work_dir.parent / "initial.pth"}']
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHON=sys.executable,
               PORT=str(free_port()))
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300, start_new_session=True)
    if expect_kill:
        assert result.returncode != 0
    else:
        assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout + result.stderr


@pytest.fixture(scope='module')
def runs(digits, tmp_path_factory):
    """An initial checkpoint; 1-process training from it; 2-process FSDP
    training from it."""
    root = tmp_path_factory.mktemp('runs')
    import mmregnet
    config = _write_config(root / 'single', digits)
    model = mmregnet.get_model(str(config))
    torch.save({'state_dict': model.state_dict()}, root / 'initial.pth')
    _train(config, root / 'single', 1)
    sharded = _write_config(root / 'fsdp', digits)
    log = _train(sharded, root / 'fsdp', 2)
    return root, log


def test_fsdp_on_two_processes_trains_like_one_process(runs):
    root, log = runs
    assert 'FSDP over 2 processes: 6 RegNet block units' in log
    single = json.loads((root / 'single/losses.json').read_text())
    sharded = json.loads((root / 'fsdp/losses.json').read_text())
    assert len(single) == len(sharded) == EPOCHS * IMAGES // GLOBAL_BATCH
    first_epoch = IMAGES // GLOBAL_BATCH
    assert sharded[:first_epoch] == pytest.approx(
        single[:first_epoch], rel=LOSS_RTOL), (single, sharded)
    assert sharded[0] == pytest.approx(single[0], rel=1e-6)


def test_consolidated_checkpoint_loads_in_one_process(runs):
    root, _ = runs
    path = root / 'fsdp' / f'epoch_{EPOCHS}.pth'
    checkpoint = torch.load(path, weights_only=True)  # plain data
    single = torch.load(root / 'single' / f'epoch_{EPOCHS}.pth',
                        weights_only=True)
    assert checkpoint['state_dict'].keys() == single['state_dict'].keys()
    # the optimizer state is the full one too: momentum of every weight
    assert len(checkpoint['optimizer']['state']) == len(
        single['optimizer']['state'])
    import mmregnet
    model = mmregnet.get_model(
        str(root / 'fsdp/config.py'), pretrained=str(path)).eval()
    with torch.no_grad():
        logits = model(fixed_images(), mode='tensor')
    torch.testing.assert_close(
        logits, torch.load(root / 'fsdp/logits.pth'), rtol=1e-5, atol=1e-5)


def test_killed_and_resumed_fsdp_run_equals_the_uninterrupted_one(
        runs, digits):
    root, _ = runs
    killed = root / 'killed'
    # iteration 15 is in epoch 3, after epoch_2.pth (iteration 12)
    config = _write_config(killed, digits,
                           "dict(type='KillAtIterHook', kill_at_iter=15)")
    _train(config, killed, 2, expect_kill=True)
    assert sorted(p.name for p in killed.glob('*.pth')) == [
        'epoch_1.pth', 'epoch_2.pth'
    ]
    resumable = _write_config(killed, digits)
    log = _train(resumable, killed, 2, '--resume')
    assert 'resumed epoch: 2, iter: 12' in log
    straight = torch.load(root / 'fsdp' / f'epoch_{EPOCHS}.pth')
    resumed = torch.load(killed / f'epoch_{EPOCHS}.pth')
    for key, value in straight['state_dict'].items():
        torch.testing.assert_close(resumed['state_dict'][key], value,
                                   rtol=0, atol=1e-6, msg=key)
