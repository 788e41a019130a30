"""Fast training in tools/train.py: channels_last by default with NCHW
checkpoints, bf16 autocast on CPUs with native bf16 (--amp), torch.compile
(--compile); real Runners on the digits quick start."""
import copy
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.runner import Runner

from mmregnet.engine import (CPUBF16OptimWrapper, configure_speed,
                             native_bf16_feature)
from mmregnet.engine.speed import guard_mmcv_ops
from mmregnet.models import switch_to_deploy
from tests.helpers import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(ROOT / 'configs/quickstart/regnet-tiny_1xb64_digits.py')
CHANNELS_LAST = torch.channels_last
TRAIN_IMAGES = 1437  # prepare_digits' training split, sorted by class


def _config(digits, work_dir, images=64, epochs=1, **options):
    """The quick start on ``images`` training images evenly spread over the
    classes, batches of 16, constant learning rate, no validation;
    ``options`` merged into the config."""
    cfg = copy.deepcopy(load_config(CONFIG))
    cfg.merge_from_dict({
        'work_dir': str(work_dir),
        # a message hub of its own: runners of one config started within
        # the same second would otherwise share one (and its losses)
        'experiment_name': Path(work_dir).name,
        'train_dataloader.batch_size': 16,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': str(digits),
        'train_dataloader.dataset.indices':
        list(range(0, TRAIN_IMAGES, TRAIN_IMAGES // images))[:images],
        'train_cfg': dict(by_epoch=True, max_epochs=epochs),
        'param_scheduler': [],
        'default_hooks.logger.interval': 1,
        **options
    })
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


class _Recorder:
    """Forward pre-hook that records the layout and dtype of what a module
    receives, and a forward hook for what it returns."""

    def __init__(self, module):
        self.inputs, self.outputs = [], []
        module.register_forward_pre_hook(
            lambda m, args: self.inputs.append(args[0]))
        module.register_forward_hook(
            lambda m, args, out: self.outputs.append(out))


def _channels_last(tensor):
    return tensor.dim() == 4 and tensor.shape[1] > 1 and \
        tensor.is_contiguous(memory_format=CHANNELS_LAST) and \
        not tensor.is_contiguous()


def _conv_weights(model):
    """The weights of the convolutions whose two layouts differ: more than
    one input channel (per group) and a kernel larger than 1x1."""
    return {name: p for name, p in model.named_parameters() if p.dim() == 4
            and p.shape[1] > 1 and p.shape[2] * p.shape[3] > 1}


def _trained_runner(cfg):
    runner = Runner.from_cfg(cfg)
    stem = _Recorder(runner.model.backbone.conv1)
    runner.train()
    return runner, stem


def test_training_runs_in_channels_last_and_saves_nchw_weights(
        digits, tmp_path):
    # with EMA, Precise BN and activation checkpointing
    cfg = _config(digits, tmp_path, custom_hooks=[
        dict(type='EMAHook', momentum=0.1),
        dict(type='PreciseBNHook', num_samples=32, priority='ABOVE_NORMAL')
    ], **{'model.backbone.with_cp': True})
    runner, stem = _trained_runner(cfg)
    # 64 images in batches of 16, then 32 for Precise BN
    assert len(stem.inputs) == 4 + 2
    assert all(_channels_last(batch) for batch in stem.inputs)
    weights = _conv_weights(runner.model)
    assert weights and all(map(_channels_last, weights.values()))

    checkpoint = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    for key in ('state_dict', 'ema_state_dict'):
        assert all(t.is_contiguous() for t in checkpoint[key].values()), key
    # the weights load into a model built as usual (NCHW) and compute what
    # the channels_last model computes, also after switch_to_deploy
    model = Runner.from_cfg(_config(digits, tmp_path / 'nchw')).model
    model.load_state_dict(checkpoint['state_dict'])
    assert not any(map(_channels_last, _conv_weights(model).values()))
    images = torch.rand(8, 3, 32, 32)
    trained = runner.model.eval()
    trained.load_state_dict(checkpoint['state_dict'])  # the EMA weights
    for deploy in (False, True):
        if deploy:
            switch_to_deploy(model.eval())
            switch_to_deploy(trained)
        with torch.no_grad():
            torch.testing.assert_close(
                trained(images.contiguous(memory_format=CHANNELS_LAST)),
                model.eval()(images), rtol=1e-4, atol=1e-5)


def test_mmcv_ops_get_dense_nchw_inputs():
    # mmcv's RoIAlign kernel (mmdet's two-stage configs) indexes its input
    # as dense NCHW memory
    from mmcv.ops import RoIAlign
    roi_align = RoIAlign(2, spatial_scale=1.0, sampling_ratio=2)
    features = torch.rand(1, 8, 16, 16)
    rois = torch.tensor([[0., 1., 2., 11., 9.]])
    expected = roi_align(features, rois)
    channels_last = features.contiguous(memory_format=CHANNELS_LAST)
    assert not torch.allclose(roi_align(channels_last, rois), expected)
    guard_mmcv_ops(torch.nn.ModuleList([roi_align]))
    guard_mmcv_ops(roi_align)  # idempotent: one pre-hook
    assert len(roi_align._forward_pre_hooks) == 1
    torch.testing.assert_close(roi_align(channels_last, rois), expected)


def test_one_key_turns_channels_last_off(digits, tmp_path):
    cfg = _config(digits, tmp_path, images=16,
                  **{'default_hooks.channels_last.enabled': False})
    runner, stem = _trained_runner(cfg)
    assert stem.inputs and all(x.is_contiguous() for x in stem.inputs)
    assert all(p.is_contiguous() for p in runner.model.parameters())


@pytest.mark.slow
@pytest.mark.skipif(
    native_bf16_feature() is None, reason='no native bf16 in this CPU')
def test_amp_on_a_native_bf16_cpu_trains_in_bf16(digits, tmp_path):
    cfg = configure_speed(
        _config(digits, tmp_path, images=TRAIN_IMAGES,
                **{'train_dataloader.batch_size': 64}), amp=True)
    assert cfg.optim_wrapper.type == 'mmregnet.CPUBF16OptimWrapper'
    runner, stem = _trained_runner(cfg)
    assert isinstance(runner.optim_wrapper, CPUBF16OptimWrapper)
    assert {out.dtype for out in stem.outputs} == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in runner.model.parameters())
    losses = runner.message_hub.get_scalar('train/loss').data[0].tolist()
    assert len(losses) == 23 and all(map(math.isfinite, losses))
    # an epoch at the quick start's learning rate, no warm-up
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first - 0.5, losses


@pytest.mark.skipif(
    native_bf16_feature() is not None or torch.cuda.is_available(),
    reason='this machine has native bf16 or CUDA')
def test_amp_without_native_bf16_or_cuda_says_why(tmp_path):
    result = subprocess.run(
        [sys.executable, 'tools/train.py', CONFIG, '--amp', '--work-dir',
         str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(
        'error: --amp needs a CUDA device or a CPU with native bf16')


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA has AMP')
def test_amp_on_cpu_refuses_detectors_with_the_reason():
    detector = load_config(
        ROOT / 'configs/mmdet/quickstart/faster-rcnn_regnetx-tiny_fpn_1xb8_'
        'shapes.py')
    with pytest.raises(ValueError, match='no bf16 kernels'):
        configure_speed(copy.deepcopy(detector), amp=True)


def test_compile_is_the_runner_compile_option():
    cfg = configure_speed(copy.deepcopy(load_config(CONFIG)), compile=True)
    assert cfg.compile is True
    plain = configure_speed(copy.deepcopy(load_config(CONFIG)))
    assert 'compile' not in plain
    assert plain.optim_wrapper == load_config(CONFIG).optim_wrapper


# the quick start's first two blocks (stage widths 16, 32): the graph that
# torch.compile compiles, and the time it takes, grow with the depth
TWO_BLOCKS = {'model.backbone.arch.depth': 2, 'model.head.in_channels': 32}


@pytest.mark.slow
def test_compiled_training_matches_eager_training(digits, tmp_path):
    losses = {}
    for compile in (False, True):
        cfg = configure_speed(
            _config(digits, tmp_path / str(compile), images=48,
                    **TWO_BLOCKS),
            compile=compile)
        runner = Runner.from_cfg(cfg)
        runner.train()
        losses[compile] = runner.message_hub.get_scalar(
            'train/loss').data[0].tolist()
    assert len(losses[True]) == 3
    # the same first step; rounding differences grow with training
    assert losses[True][0] == pytest.approx(losses[False][0], rel=1e-5)
    assert losses[True] == pytest.approx(losses[False], rel=1e-2)
