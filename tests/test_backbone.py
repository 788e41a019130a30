"""The RegNet backbone: shapes, options, training behaviour, validation."""
import copy

import pytest
import torch
import torch.nn as nn

from mmregnet.design import ARCH_SETTINGS
from mmregnet.models import RegNet
from mmregnet.models.backbones.regnet import RegNetBlock
from tests.helpers import randomise_norms


@pytest.mark.parametrize('arch', sorted(ARCH_SETTINGS))
def test_every_arch_builds_with_params_equal_to_the_analytic_count(arch):
    model = RegNet(arch, out_indices=(0, 1, 2, 3))
    assert sum(p.numel() for p in model.parameters()) == \
        model.complexity(num_classes=0).params
    has_se = arch.startswith('regnety')
    assert any(isinstance(m, RegNetBlock) and m.se is not None
               for m in model.modules()) == has_se


@pytest.mark.parametrize('out_indices', [(0, ), (1, ), (2, ), (3, ),
                                         (0, 1, 2, 3),
                                         (1, 3), (-1, ), (0, -2)])
def test_feature_shapes_for_every_out_indices(out_indices):
    model = RegNet('regnetx_200mf', out_indices=out_indices).eval()
    feats = model(torch.rand(2, 3, 64, 64))
    indices = sorted({i % 4 for i in out_indices})
    assert len(feats) == len(indices) == len(model.out_channels)
    for feat, i, channels in zip(feats, indices, model.out_channels):
        assert channels == model.stage_widths[i]
        assert feat.shape == (2, model.stage_widths[i], 64 // 2**(i + 2),
                              64 // 2**(i + 2))


def test_stage_widths_and_out_channels_are_exposed():
    model = RegNet('regnetx_3.2gf', out_indices=(0, 1, 2, 3))
    assert model.stage_widths == (96, 192, 432, 1008)
    assert model.out_channels == (96, 192, 432, 1008)
    assert model.stage_blocks == (2, 6, 15, 2)
    assert RegNet('regnetx_3.2gf').out_channels == (1008, )


def test_state_dict_uses_openmmlab_names_and_se_under_blocks():
    keys = RegNet('regnety_200mf').state_dict().keys()
    for key in ['conv1.weight', 'bn1.running_var', 'layer1.0.conv1.weight',
                'layer1.0.bn3.weight', 'layer1.0.downsample.0.weight',
                'layer1.0.downsample.1.bias', 'layer4.6.conv2.weight',
                'layer1.0.se.conv1.weight', 'layer1.0.se.conv2.bias']:
        assert key in keys
    se = RegNet('regnety_200mf').layer2[0].se
    # squeeze width = round(0.25 * block input width 24), gating width = w_b
    assert se.conv1.weight.shape == (6, 56, 1, 1)
    assert se.conv2.weight.shape == (56, 6, 1, 1)


@pytest.mark.parametrize('strides, dilations, stride', [
    ((2, 2, 2, 2), (1, 1, 1, 1), 32),
    ((2, 2, 2, 1), (1, 1, 1, 2), 16),
    ((2, 2, 1, 1), (1, 1, 2, 4), 8),
])
def test_output_stride_through_dilation(strides, dilations, stride):
    model = RegNet('regnetx_200mf', strides=strides, dilations=dilations,
                   out_indices=(3, )).eval()
    (feat, ) = model(torch.rand(1, 3, 128, 128))
    assert feat.shape[-2:] == (128 // stride, 128 // stride)
    assert model.layer4[1].conv2.dilation == (dilations[3], dilations[3])
    cx = model.complexity(input_size=128)
    assert cx.params == sum(p.numel() for p in model.parameters())


def test_analytic_flops_follow_the_output_stride():
    base = RegNet('regnetx_200mf').complexity()
    dilated = RegNet('regnetx_200mf', strides=(2, 2, 2, 1),
                     dilations=(1, 1, 1, 2)).complexity()
    assert dilated.flops > base.flops and dilated.params == base.params


def test_frozen_stages_have_no_grads_and_stay_in_eval_mode():
    model = RegNet('regnetx_200mf', frozen_stages=2, out_indices=(3, ))
    model.train()
    frozen = [model.conv1, model.bn1, model.layer1, model.layer2]
    for module in frozen:
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules())
    assert all(p.requires_grad for p in model.layer3.parameters())
    assert model.layer3.training
    model(torch.rand(2, 3, 64, 64))[0].sum().backward()
    assert model.conv1.weight.grad is None
    assert model.layer2[0].conv2.weight.grad is None
    assert model.layer3[0].conv2.weight.grad is not None


def test_frozen_stem_only():
    model = RegNet('regnetx_200mf', frozen_stages=0).train()
    assert not model.conv1.weight.requires_grad and not model.bn1.training
    assert model.layer1[0].conv1.weight.requires_grad and model.layer1.training


def test_norm_eval_keeps_running_stats():
    model = RegNet('regnetx_200mf', norm_eval=True).train()
    assert all(not m.training for m in model.modules()
               if isinstance(m, nn.BatchNorm2d))
    before = copy.deepcopy(model.state_dict())
    model(torch.rand(2, 3, 64, 64))
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    # without norm_eval the running statistics move
    plain = RegNet('regnetx_200mf').train()
    mean = plain.bn1.running_mean.clone()
    plain(torch.rand(2, 3, 64, 64))
    assert not torch.equal(mean, plain.bn1.running_mean)


def test_with_cp_gives_identical_outputs_and_grads_and_recomputes():
    torch.manual_seed(0)
    plain = randomise_norms(RegNet('regnety_200mf', out_indices=(2, 3)))
    ckpt = RegNet('regnety_200mf', out_indices=(2, 3), with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 64, 64)
    calls = []
    ckpt.layer3[0].conv1.register_forward_hook(lambda *_: calls.append(1))
    outs = []
    for model in (plain, ckpt):
        model.train()
        feats = model(x)
        sum(f.square().mean() for f in feats).backward()
        outs.append((feats, {n: p.grad for n, p in model.named_parameters()}))
    (f1, g1), (f2, g2) = outs
    for a, b in zip(f1, f2):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for name in g1:
        torch.testing.assert_close(g1[name], g2[name], rtol=1e-5, atol=1e-7)
    assert len(calls) == 2  # forward, then recomputed during backward


def test_with_cp_counts_each_batch_once_in_norm_statistics():
    plain = RegNet('regnetx_200mf').train()
    ckpt = RegNet('regnetx_200mf', with_cp=True).train()
    ckpt.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 64, 64)
    for model in (plain, ckpt):
        model(x)[0].sum().backward()  # backward recomputes the blocks
    expected = plain.state_dict()
    for key, value in ckpt.state_dict().items():
        torch.testing.assert_close(value, expected[key], msg=key)
    assert ckpt.state_dict()['layer1.0.bn1.num_batches_tracked'] == 1


def test_drop_path_is_linear_in_depth_and_only_active_in_training():
    model = RegNet('regnetx_200mf', drop_path_rate=0.2)
    blocks = [m for m in model.modules() if isinstance(m, RegNetBlock)]
    rates = [getattr(b.drop_path, 'drop_prob', 0.0) for b in blocks]
    assert rates[0] == 0.0 and rates[-1] == pytest.approx(0.2)
    assert rates == sorted(rates)
    randomise_norms(model)
    x = torch.rand(4, 3, 64, 64)
    reference = RegNet('regnetx_200mf')
    reference.load_state_dict(model.state_dict())
    model.eval(), reference.eval()
    torch.testing.assert_close(model(x)[0], reference(x)[0])
    model.train()
    torch.manual_seed(1)
    first = model(x)[0]
    torch.manual_seed(2)
    assert not torch.allclose(first, model(x)[0])


def test_zero_init_residual_makes_blocks_start_as_identity_paths():
    model = RegNet('regnetx_200mf')
    model.init_weights()
    for block in (m for m in model.modules() if isinstance(m, RegNetBlock)):
        assert torch.count_nonzero(block.bn3.weight) == 0
    other = RegNet('regnetx_200mf', zero_init_residual=False)
    other.init_weights()
    assert torch.all(other.layer1[0].bn3.weight == 1)
    # Kaiming fan_out init of the convolutions, as in pycls
    std = other.layer3[0].conv2.weight.std().item()
    fan_out = 3 * 3 * other.layer3[0].conv2.out_channels
    assert std == pytest.approx((2 / fan_out)**0.5, rel=0.1)


def test_pretrained_init_cfg_loads_weights_and_keeps_them(tmp_path):
    source = randomise_norms(RegNet('regnetx_200mf'))
    path = tmp_path / 'backbone.pth'
    torch.save(source.state_dict(), path)
    model = RegNet('regnetx_200mf',
                   init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key


def test_norm_act_and_input_channels_are_configurable():
    model = RegNet('regnety_200mf', in_channels=1, stem_channels=16,
                   norm_cfg=dict(type='GN', num_groups=8),
                   act_cfg=dict(type='SiLU'))
    assert isinstance(model.layer1[0].bn1, nn.GroupNorm)
    assert isinstance(model.layer1[0].act, nn.SiLU)
    assert model.conv1.weight.shape == (16, 1, 3, 3)
    (feat, ) = model(torch.rand(2, 1, 64, 64))
    assert feat.shape == (2, 368, 2, 2)
    assert model.complexity(num_classes=0).params == sum(
        p.numel() for p in model.parameters())


def test_explicit_design_dict_with_three_stages():
    arch = dict(w0=32, wa=20.0, wm=2.5, depth=6, group_w=8, bot_mul=0.5,
                se_ratio=0.25)
    model = RegNet(arch, out_indices=(0, 1, 2)).eval()
    assert len(model.stage_widths) == 3
    feats = model(torch.rand(1, 3, 32, 32))
    assert [f.shape[1] for f in feats] == list(model.stage_widths)
    assert model.complexity(num_classes=0).params == sum(
        p.numel() for p in model.parameters())


def test_get_layer_depth_counts_stem_blocks_and_head():
    model = RegNet('regnetx_400mf')  # 1 + 2 + 7 + 12 = 22 blocks
    assert model.get_layer_depth('backbone.conv1.weight',
                                 'backbone.') == (0, 24)
    assert model.get_layer_depth('backbone.layer1.0.conv1.weight',
                                 'backbone.') == (1, 24)
    assert model.get_layer_depth('backbone.layer3.0.bn1.bias',
                                 'backbone.') == (4, 24)
    assert model.get_layer_depth('backbone.layer4.11.conv3.weight',
                                 'backbone.') == (22, 24)
    assert model.get_layer_depth('head.fc.weight', 'backbone.') == (23, 24)


@pytest.mark.parametrize('kwargs, words', [
    (dict(strides=(2, 2, 2)), 'strides'),
    (dict(strides=(2, 2, 2, 0)), 'strides'),
    (dict(dilations=(1, 1, 1, 1, 1)), 'dilations'),
    (dict(out_indices=(4, )), 'out_indices'),
    (dict(out_indices=()), 'out_indices'),
    (dict(frozen_stages=5), 'frozen_stages'),
    (dict(drop_path_rate=1.0), 'drop_path_rate'),
    (dict(width_rounding='floor'), 'rounding'),
    (dict(in_channels=0), 'in_channels'),
    (dict(arch='regnetz_400mf'), 'regnetx_400mf'),
    (dict(arch=dict(w0=24, wa=24.48, wm=2.54, depth=22)), 'group_w'),
])
def test_bad_backbone_arguments_raise_naming_the_value(kwargs, words):
    kwargs = dict(dict(arch='regnetx_200mf'), **kwargs)
    with pytest.raises(ValueError) as info:
        RegNet(**kwargs)
    assert words in str(info.value)


def test_arch_of_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match='arch'):
        RegNet(400)
