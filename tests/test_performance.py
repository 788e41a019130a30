"""Speed features: deploy mode (BatchNorm folding, fused oneDNN kernels),
channels_last, torch.compile, ONNX export, activation checkpointing, and a
smoke run of the benchmark. Speed itself is measured by
tools/analysis_tools/benchmark.py, not here."""
import copy
import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from mmregnet.deploy import plan as deploy_plan
from mmregnet.models import FusedConv2d, RegNet, fuse_conv_bn, switch_to_deploy
from tests.helpers import randomise_norms

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(w0=16, wa=8.0, wm=2.0, depth=3, group_w=8, se_ratio=0.25)
TOL = dict(rtol=1e-5, atol=1e-5)


def _load_tool(path):
    spec = importlib.util.spec_from_file_location(Path(path).stem,
                                                  ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _classifier(arch='regnetx_200mf', **backbone):
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    width = RegNet(arch).stage_widths[-1]
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(
            type='ImageClassifier',
            backbone=dict(type='mmregnet.RegNet', arch=arch, **backbone),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10,
                      in_channels=width)))
    return randomise_norms(model).eval()


def _assert_all_close(actual, expected, **tol):
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, **(tol or TOL))


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(stride=2, groups=4),
    dict(padding=2, dilation=2, groups=2),
])
@pytest.mark.parametrize('conv_bias', [False, True])
def test_fuse_conv_bn_equals_conv_then_norm_then_act(kwargs, conv_bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, padding=kwargs.pop('padding', 1),
                     bias=conv_bias, **kwargs)
    norm = randomise_norms(nn.BatchNorm2d(16)).eval()
    fused = fuse_conv_bn(conv, norm, nn.ReLU())
    assert isinstance(fused, FusedConv2d)
    assert set(fused.state_dict()) == {'weight', 'bias'}
    x = torch.randn(2, 8, 12, 12)
    with torch.no_grad():
        expected = torch.relu(norm(conv(x)))
        residual = torch.randn_like(expected)
        with_residual = torch.relu(norm(conv(x)) + residual)
        for fmt in (torch.contiguous_format, torch.channels_last):
            y = x.contiguous(memory_format=fmt)
            torch.testing.assert_close(fused(y), expected, **TOL)
            torch.testing.assert_close(
                fused(y, residual.contiguous(memory_format=fmt)),
                with_residual, **TOL)
    torch.testing.assert_close(fused(x), expected, **TOL)  # autograd path


@pytest.mark.parametrize('arch', ['regnetx_200mf', 'regnety_200mf'])
def test_switch_to_deploy_matches_the_unfused_backbone(arch):
    torch.manual_seed(0)
    model = randomise_norms(RegNet(arch, out_indices=(0, 1, 2, 3))).eval()
    deployed = copy.deepcopy(model)
    deployed.switch_to_deploy()
    assert deployed.deploy and not any(
        isinstance(m, nn.BatchNorm2d) for m in deployed.modules())
    # batch 1 (channels_last kernels), 5 (micro-batches, blocked layout
    # for RegNetX), NCHW and channels_last input, with and without autograd
    for batch in (1, 5):
        x = torch.randn(batch, 3, 64, 64)
        with torch.no_grad():
            expected = model(x)
            for fmt in (torch.contiguous_format, torch.channels_last):
                _assert_all_close(
                    deployed(x.contiguous(memory_format=fmt)), expected)
        _assert_all_close(deployed(x), expected)


def test_micro_batches_and_blocked_layout_are_used(monkeypatch):
    model = RegNet('regnetx_200mf').eval()
    model.switch_to_deploy()
    calls = []
    run_stages = model.deploy_plan.run_stages

    def spy(stages, out_indices, x, first, last, outs):
        calls.append((x.shape[0], x.is_mkldnn, first, last))
        return run_stages(stages, out_indices, x, first, last, outs)

    monkeypatch.setattr(model.deploy_plan, 'run_stages', spy)
    with torch.no_grad():
        model(torch.rand(9, 3, 224, 224))
        # stem, layer1 and layer2 (inputs >= 56x56) per 4 images
        assert calls == [(4, True, 0, 3), (4, True, 0, 3), (1, True, 0, 3),
                         (9, True, 3, 5)]
        calls.clear()
        model(torch.rand(2, 3, 224, 224))
        assert calls == [(2, False, 0, 5)]
    assert deploy_plan.MICRO_BATCH == deploy_plan.BLOCKED_MIN_BATCH == 4


def test_deploy_with_frozen_bn_in_a_training_model():
    model = randomise_norms(RegNet('regnetx_200mf', norm_eval=True,
                                   frozen_stages=1)).train()
    x = torch.randn(2, 3, 64, 64)
    expected = model(x)
    model.switch_to_deploy()  # every BatchNorm is frozen: folding is exact
    _assert_all_close(model(x), expected)
    model.switch_to_deploy()  # idempotent


def test_switch_to_deploy_refuses_training_bn_and_other_norms():
    model = RegNet('regnetx_200mf').train()
    with pytest.raises(RuntimeError, match='model.eval()'):
        model.switch_to_deploy()
    assert not model.deploy and hasattr(model, 'bn1')  # left untouched
    gn = RegNet('regnetx_200mf', norm_cfg=dict(type='GN', num_groups=8))
    with pytest.raises(NotImplementedError, match='GroupNorm'):
        gn.eval().switch_to_deploy()
    with pytest.raises(NotImplementedError, match='BatchNorm'):
        RegNet('regnetx_200mf', norm_cfg=dict(type='GN', num_groups=8),
               deploy=True)


def test_deploy_state_dict_format_loads_into_a_deploy_built_model():
    torch.manual_seed(0)
    model = randomise_norms(RegNet('regnety_200mf')).eval()
    x = torch.randn(2, 3, 64, 64)
    expected = model(x)
    model.switch_to_deploy()
    state = model.state_dict()
    assert not any('bn' in key for key in state)
    for key in ['conv1.weight', 'conv1.bias', 'layer1.0.conv3.bias',
                'layer1.0.downsample.weight', 'layer1.0.downsample.bias',
                'layer1.0.se.conv1.weight', 'layer4.6.conv2.bias']:
        assert key in state
    built = RegNet('regnety_200mf', deploy=True)
    assert set(built.state_dict()) == set(state)
    built.load_state_dict(state, strict=True)
    _assert_all_close(built.eval()(x), expected)
    with pytest.raises(RuntimeError, match='bn1'):
        RegNet('regnety_200mf').load_state_dict(state)


def test_prepacked_weights_follow_new_weights_and_are_not_pickled():
    model = randomise_norms(RegNet('regnetx_200mf'), seed=1).eval()
    other = randomise_norms(RegNet('regnetx_200mf'), seed=2).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = other(x)
        model.switch_to_deploy()
        model(x)  # prepacks its weights
        assert model.conv1._packed is not None
        other.switch_to_deploy()
        model.load_state_dict(other.state_dict())
        _assert_all_close(model(x), expected)
        copied = copy.deepcopy(model)
        restored = pickle.loads(pickle.dumps(model))
        assert copied.conv1._packed is None and model.conv1._packed
        _assert_all_close(copied(x), expected)
        _assert_all_close(restored(x), expected)


def test_classifier_switch_to_deploy_and_deploy_checkpoint(tmp_path):
    tool = _load_tool('tools/deployment/reparameterize_model.py')
    from mmregnet.apis import get_model
    config = str(ROOT / 'configs/regnetx-400mf_8xb128_in1k.py')
    model = randomise_norms(get_model(config)).eval()
    checkpoint, deployed_path = tmp_path / 'plain.pth', tmp_path / 'dep.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = model(x, mode='tensor')
        assert switch_to_deploy(model) is model and model.backbone.deploy
        torch.testing.assert_close(model(x, mode='tensor'), expected, **TOL)
    tool.main([config, str(checkpoint), str(deployed_path)])
    deployed = get_model(config, pretrained=str(deployed_path),
                         backbone=dict(deploy=True)).eval()
    with torch.no_grad():
        torch.testing.assert_close(deployed(x, mode='tensor'), expected,
                                   **TOL)


def _assert_channels_last_throughout(model, x):
    bad = []

    def check(module, _, out):
        if isinstance(out, torch.Tensor) and out.dim() == 4 and min(
                out.shape[1:]) > 1 and not out.is_contiguous(
                    memory_format=torch.channels_last):
            bad.append(type(module).__name__)

    handles = [m.register_forward_hook(check) for m in model.modules()]
    try:
        out = model(x.contiguous(memory_format=torch.channels_last))
    finally:
        for handle in handles:
            handle.remove()
    assert not bad, f'NCHW outputs from {bad}'
    return out


@pytest.mark.parametrize('arch', ['regnetx_200mf', 'regnety_200mf'])
def test_channels_last_end_to_end_with_equal_outputs_and_grads(arch):
    torch.manual_seed(0)
    model = randomise_norms(RegNet(arch, out_indices=(0, 1, 2, 3)))
    reference = copy.deepcopy(model).eval()
    model = model.to(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 64, 64)
    _assert_channels_last_throughout(copy.deepcopy(model).train(), x)
    outs = _assert_channels_last_throughout(model.eval(), x)
    expected = reference(x)
    _assert_all_close(outs, expected)
    sum(o.square().mean() for o in outs).backward()
    sum(o.square().mean() for o in expected).backward()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p.grad, q.grad, **TOL, msg=name)
    model.switch_to_deploy()
    with torch.no_grad():
        _assert_all_close(_assert_channels_last_throughout(model, x),
                          reference(x))


@pytest.mark.slow
def test_torch_compile_of_deployed_backbone_and_of_classifier():
    torch.manual_seed(0)
    classifier = _classifier(TINY)
    backbone = copy.deepcopy(classifier.backbone)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = backbone(x)
        logits = classifier(x, mode='tensor')
        torch.testing.assert_close(
            torch.compile(classifier)(x, mode='tensor'), logits, rtol=1e-4,
            atol=1e-4)
        backbone.switch_to_deploy()
        compiled = torch.compile(
            backbone.to(memory_format=torch.channels_last))
        _assert_all_close(
            compiled(x.contiguous(memory_format=torch.channels_last)),
            expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('backbone_only', [False, True])
def test_onnx_export_with_dynamic_batch_matches_onnxruntime(
        tmp_path, backbone_only):
    tool = _load_tool('tools/deployment/pytorch2onnx.py')
    torch.manual_seed(0)
    model = _classifier('regnety_200mf', out_indices=(2, 3))
    switch_to_deploy(model)
    wrapper = tool.ExportWrapper(model, backbone_only).eval()
    path = str(tmp_path / 'model.onnx')
    names = tool.export_onnx(wrapper, path, shape=(64, 64))
    assert names == (('feat0', 'feat1') if backbone_only else ('logits', ))
    # one file, batch sizes 1 and 3
    assert tool.verify_onnx(wrapper, path, (64, 64), (1, 3)) <= 1e-4


def test_with_cp_lowers_peak_training_memory():
    # identical gradients: tests/test_backbone.py; the benchmark measures
    # X-3.2GF at 224x224, batch 16 (63% less)
    bench = _load_tool('tools/analysis_tools/benchmark.py')
    x = torch.randn(4, 3, 64, 64)
    peaks = []
    for with_cp in (False, True):
        model = RegNet('regnetx_400mf', with_cp=with_cp).train()

        def step():
            model(x)[0].square().mean().backward()

        peaks.append(bench.peak_step_memory(step, torch.device('cpu')))
    assert peaks[1] < 0.7 * peaks[0], peaks


def test_benchmark_speedup_pairs_samples_of_the_same_round():
    bench = _load_tool('tools/analysis_tools/benchmark.py')
    # round 2 was slow for both cases: per-round ratios stay 2.0, while
    # the ratio of the medians would be 2.5
    ours = bench.Case('mmregnet', 'deploy', 'eval bs1', None,
                      samples=[1.0, 1.0, 3.0, 1.0])
    peer = bench.Case('timm', 'eager', 'eval bs1', None,
                      samples=[2.0, 3.0, 6.0, 2.0])
    assert ours.speedup_over(peer, 'median') == 2.0
    assert ours.speedup_over(peer, 'min') == 2.0
    assert peer.speedup_over(ours, 'median') == 0.5


@pytest.mark.slow
def test_benchmark_smoke_run_writes_json(tmp_path):
    # without the int8 mode: its ONNX export and calibration took the
    # largest share of the run (tests/test_quantize.py runs an int8 case of
    # the benchmark); regnetx_400mf: mmpretrain's smallest
    out = tmp_path / 'bench.json'
    run = subprocess.run(
        [sys.executable, 'tools/analysis_tools/benchmark.py', '--archs',
         'regnetx_400mf', '--input-size', '32', '--batch-sizes', '2',
         '--train-batch-size', '2', '--rounds', '1', '--min-time', '0',
         '--threads', '1', '--compile-impls', '--no-int8', '--profile',
         '--json', str(out)],
        cwd=ROOT, check=True, capture_output=True, text=True, timeout=300)
    results = json.loads(out.read_text())
    assert results['environment']['threads'] >= 1
    cases = {(r['impl'], r['mode'], r['workload'])
             for r in results['results']}
    for impl in ('mmregnet', 'mmpretrain', 'timm', 'torchvision'):
        assert (impl, 'channels_last', 'eval bs2') in cases
        assert (impl, 'eager', 'train bs2') in cases
        assert (impl, 'eager', 'train memory bs2') in cases
    assert ('mmregnet', 'deploy', 'eval bs2') in cases
    # --profile: the deployed model's time by convolution kind
    for kind in ('stem 3x3', '1x1', '3x3 grouped', 'other'):
        assert f'\n  {kind} ' in run.stdout, run.stdout
