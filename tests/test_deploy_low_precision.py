"""Deploy mode in bfloat16 and float16: BatchNorm folded in float32, the
fused oneDNN path taken for bfloat16 on CPUs where oneDNN computes it, the
plain path (conv + bias + activation) elsewhere, outputs as accurate as the
plain model's in the same dtype. Speed: tools/analysis_tools/benchmark.py
--dtype bfloat16."""
import copy

import pytest
import torch
import torch.nn as nn

from mmregnet.deploy import fused as fused_module
from mmregnet.models import RegNet, fuse_conv_bn
from tests.helpers import randomise_norms

HALF = (torch.bfloat16, torch.float16)
bf16_onednn = pytest.mark.skipif(
    torch.bfloat16 not in fused_module.onednn_dtypes(),
    reason='oneDNN does not compute bfloat16 on this CPU')


def relative_error(actual: torch.Tensor, reference: torch.Tensor) -> float:
    """||actual - reference|| / ||reference||, in float32."""
    return ((actual.float() - reference).norm() / reference.norm()).item()


def _backbone(arch: str) -> RegNet:
    torch.manual_seed(0)
    return randomise_norms(RegNet(arch, out_indices=(0, 1, 2, 3))).eval()


@pytest.mark.parametrize('dtype', HALF)
def test_norms_fold_in_float32_then_round_once(dtype):
    conv = nn.Conv2d(8, 16, 3, padding=1, bias=False)
    norm = randomise_norms(nn.Sequential(nn.BatchNorm2d(16)))[0].eval()
    in_float32 = fuse_conv_bn(conv, norm)
    conv_half = copy.deepcopy(conv).to(dtype)
    norm_half = copy.deepcopy(norm).to(dtype)
    half = fuse_conv_bn(conv_half, norm_half)
    assert half.weight.dtype == half.bias.dtype == dtype
    # the model's half-precision parameters, folded in float32 and rounded
    # once (folding in half precision would round every intermediate)
    expected = fuse_conv_bn(
        copy.deepcopy(conv_half).float(),
        copy.deepcopy(norm_half).float())
    torch.testing.assert_close(half.weight, expected.weight.to(dtype),
                               rtol=0, atol=0)
    torch.testing.assert_close(half.bias, expected.bias.to(dtype),
                               rtol=0, atol=0)
    assert relative_error(half.weight, in_float32.weight) < 1e-2


@pytest.mark.parametrize('arch', ['regnetx_200mf', 'regnety_200mf'])
@pytest.mark.parametrize('dtype', HALF)
def test_half_precision_deploy_is_as_accurate_as_the_plain_model(
        arch, dtype):
    model = _backbone(arch)
    plain = copy.deepcopy(model).to(dtype)
    deployed = copy.deepcopy(model).to(dtype)
    deployed.switch_to_deploy()
    # batch 1 (channels_last kernels) and 5 (micro-batches, RegNetX's
    # blocked layout), NCHW and channels_last input
    for batch in (1, 5):
        x = torch.randn(batch, 3, 64, 64)
        with torch.no_grad():
            reference = model(x)
            plain_out = plain(x.to(dtype))
            for fmt in (torch.contiguous_format, torch.channels_last):
                outs = deployed(x.to(dtype).contiguous(memory_format=fmt))
                for out, ref, plain_ref in zip(outs, reference, plain_out):
                    assert out.dtype == dtype and not out.is_mkldnn
                    assert out.shape == ref.shape
                    assert relative_error(out, ref) <= max(
                        1.5 * relative_error(plain_ref, ref), 1e-3)


@bf16_onednn
def test_bfloat16_deploy_runs_the_fused_onednn_plan(monkeypatch):
    model = RegNet('regnetx_200mf').eval().bfloat16()
    model.switch_to_deploy()
    layouts = []
    run_stages = model.deploy_plan.run_stages

    def spy(stages, out_indices, x, first, last, outs):
        layouts.append((x.dtype, x.is_mkldnn))
        return run_stages(stages, out_indices, x, first, last, outs)

    fused_calls = []
    onednn = fused_module.FusedConv2d._onednn

    def onednn_spy(conv, x, residual):
        fused_calls.append(x.dtype)
        return onednn(conv, x, residual)

    monkeypatch.setattr(model.deploy_plan, 'run_stages', spy)
    monkeypatch.setattr(fused_module.FusedConv2d, '_onednn', onednn_spy)
    with torch.no_grad():
        model(torch.rand(2, 3, 64, 64, dtype=torch.bfloat16))
        model(torch.rand(4, 3, 64, 64, dtype=torch.bfloat16))
    assert layouts == [(torch.bfloat16, False), (torch.bfloat16, True)]
    # every convolution of both batches ran oneDNN's fused kernel
    convs = sum(isinstance(m, fused_module.FusedConv2d)
                for m in model.modules())
    assert fused_calls == [torch.bfloat16] * (2 * convs)


def test_bfloat16_without_onednn_support_runs_the_plain_path(monkeypatch):
    # a CPU where oneDNN would only emulate bfloat16 (AVX2-only)
    monkeypatch.setattr(fused_module, 'onednn_dtypes',
                        lambda: frozenset({torch.float32}))
    model = _backbone('regnetx_200mf')
    deployed = copy.deepcopy(model).bfloat16()
    deployed.switch_to_deploy()
    monkeypatch.setattr(
        fused_module.FusedConv2d, '_onednn',
        lambda *args: pytest.fail('took the oneDNN path'))
    x = torch.randn(5, 3, 64, 64)
    with torch.no_grad():
        for out, ref in zip(deployed(x.bfloat16()), model(x)):
            assert out.dtype == torch.bfloat16
            assert relative_error(out, ref) < 2e-2


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('dtype', HALF)
def test_half_precision_deploy_on_cuda(dtype):
    model = _backbone('regnety_200mf').cuda()
    deployed = copy.deepcopy(model).to(dtype)
    deployed.switch_to_deploy()
    x = torch.randn(4, 3, 64, 64, device='cuda')
    with torch.no_grad():
        for out, ref in zip(
                deployed(x.to(dtype).contiguous(
                    memory_format=torch.channels_last)), model(x)):
            assert out.dtype == dtype
            assert relative_error(out, ref) < 2e-2
