"""--fsdp: the wrap policy (one FSDP unit per RegNet block, on models built
on the meta device) and the one-line refusals of models and
options that sharded training does not combine with."""
import copy
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from mmregnet.engine import configure_speed, regnet_wrap_policy, wrap_units
from mmregnet.models.backbones.regnet import RegNetBlock
from tests.helpers import load_config

ROOT = Path(__file__).resolve().parents[1]
QUICK_START = ROOT / 'configs/quickstart/regnet-tiny_1xb64_digits.py'
TEN_B = ROOT / 'configs/fsdp/regnety-10b_fsdp-8xb32_in1k-ft.py'


def _config(path=QUICK_START, launcher='pytorch', **options):
    cfg = copy.deepcopy(load_config(path))
    cfg.launcher = launcher
    cfg.merge_from_dict(options)
    return cfg


def test_wrap_policy_wraps_every_block_of_regnety_10b_on_meta():
    cfg = load_config(TEN_B)
    with torch.device('meta'), \
            DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert all(p.is_meta for p in model.parameters())
    policy = regnet_wrap_policy(model)
    wrapped = [m for m in model.modules()
               if policy(module=m, recurse=False, nonwrapped_numel=0)]
    blocks = [m for m in model.modules() if isinstance(m, RegNetBlock)]
    assert len(blocks) == sum(model.backbone.stage_blocks) == 27
    assert wrapped == blocks == wrap_units(model)
    # the root unit holds the stem and the head
    in_units = {id(p) for unit in wrapped for p in unit.parameters()}
    outside = [name for name, p in model.named_parameters()
               if id(p) not in in_units]
    assert outside == ['backbone.conv1.weight', 'backbone.bn1.weight',
                       'backbone.bn1.bias', 'head.fc.weight', 'head.fc.bias']


def test_wrap_policy_refuses_a_model_without_regnet_blocks():
    with pytest.raises(ValueError, match='Linear has none'):
        wrap_units(torch.nn.Linear(2, 2))


def test_fsdp_switches_to_the_flexible_runner_and_our_strategy():
    cfg = configure_speed(_config(), fsdp=True)
    assert cfg.runner_type == 'FlexibleRunner'
    assert cfg.strategy == dict(type='mmregnet.RegNetFSDPStrategy')
    assert cfg.default_hooks.channels_last.enabled is False
    # the sharded configs shard without the flag and pass the same checks
    big = configure_speed(_config(TEN_B))
    assert big.strategy.type == 'mmregnet.RegNetFSDPStrategy'
    assert big.default_hooks.channels_last.enabled is False
    with pytest.raises(ValueError, match='--compile do not combine'):
        configure_speed(_config(TEN_B), compile=True)


@pytest.mark.parametrize('options,conflict', [
    (dict(compile=True), '--fsdp and --compile do not combine'),
    (dict(launcher='none'), '--fsdp shards over processes'),
])
def test_fsdp_refuses_what_it_cannot_combine(options, conflict):
    compile = options.pop('compile', False)
    with pytest.raises(ValueError, match=conflict):
        configure_speed(_config(**options), compile=compile, fsdp=True)


def test_fsdp_refuses_a_backbone_the_wrap_policy_does_not_know():
    cfg = _config(**{'model.backbone': dict(type='mmpretrain.ResNet',
                                            depth=18)})
    with pytest.raises(ValueError, match='backbone mmpretrain.ResNet'):
        configure_speed(cfg, fsdp=True)


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU bf16 check')
def test_fsdp_amp_on_cpu_is_the_strategys_bf16_or_the_cpu_error():
    from mmregnet.engine import native_bf16_feature
    if native_bf16_feature() is None:
        with pytest.raises(ValueError, match='needs a CUDA device or a CPU'):
            configure_speed(_config(), amp=True, fsdp=True)
        return
    cfg = configure_speed(_config(), amp=True, fsdp=True)
    assert cfg.strategy.model_wrapper.mixed_precision == dict(
        param_dtype='bfloat16', reduce_dtype='float32',
        buffer_dtype='float32')
    # no autocast wrapper on top: FSDP casts the gathered weights
    assert cfg.optim_wrapper.get('type', 'OptimWrapper') == 'OptimWrapper'


@pytest.mark.slow
def test_train_py_names_the_conflict_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, 'tools/train.py', str(QUICK_START), '--fsdp',
         '--compile', '--launcher', 'pytorch', '--work-dir', str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        'error: --fsdp and --compile do not combine: mmengine 0.10.7 '
        'shards with FullyShardedDataParallel, whose units break '
        'torch.compile\'s graph (PyTorch compiles sharded models through '
        'fully_shard); drop one of them'
    ]
    assert not any(tmp_path.iterdir())
