"""AnyNet archs: explicit per-stage lists for the design functions and the
backbone."""
import pytest
import torch

from mmregnet.design import AnyNetParams, complexity, resolve_arch, stage_specs
from mmregnet.models import RegNet


def _stages_of(arch):
    """The AnyNet dict with the stages of a published arch."""
    stages = stage_specs(arch)
    return dict(
        depths=[s.depth for s in stages],
        widths=[s.width for s in stages],
        group_widths=[s.group_w for s in stages],
        bot_muls=[s.bot_mul for s in stages],
        se_ratio=stages[0].se_ratio)


@pytest.mark.parametrize('arch', ['regnetx_400mf', 'regnety_800mf',
                                  'regnetx_8.0gf'])
def test_stages_of_a_regnet_as_anynet_build_the_same_model(arch):
    anynet = _stages_of(arch)
    assert stage_specs(anynet) == stage_specs(arch)
    assert complexity(anynet) == complexity(stage_specs(arch))
    regnet = RegNet(arch).state_dict()
    explicit = RegNet(anynet).state_dict()
    assert list(explicit) == list(regnet)  # same keys, same order
    assert all(explicit[k].shape == regnet[k].shape for k in regnet)


def test_anynet_backbone_params_equal_the_analytic_count_and_shapes_follow():
    arch = dict(depths=[1, 2, 3], widths=[24, 48, 96], group_widths=[8, 8, 24],
                bot_muls=[1.0, 0.5, 0.25], se_ratio=0.25)
    model = RegNet(arch, out_indices=(0, 1, 2)).eval()
    assert sum(p.numel() for p in model.parameters()) == \
        model.complexity(num_classes=0).params == \
        complexity(arch, num_classes=0).params
    assert model.stage_widths == (24, 48, 96)
    assert model.stage_blocks == (1, 2, 3)
    assert model.layer3[0].conv2.groups == 96 // 4 // 24
    feats = model(torch.rand(2, 3, 64, 64))
    assert [tuple(f.shape) for f in feats] == [(2, 24, 16, 16), (2, 48, 8, 8),
                                               (2, 96, 4, 4)]


def test_one_number_stands_for_every_stage():
    arch = resolve_arch(dict(depths=[1, 2], widths=[32, 64], group_widths=16))
    assert arch == AnyNetParams((1, 2), (32, 64), (16, 16), (1.0, 1.0))
    assert arch.as_dict() == dict(depths=[1, 2], widths=[32, 64],
                                  group_widths=[16, 16], bot_muls=[1.0, 1.0],
                                  se_ratio=0.0)
    assert resolve_arch(arch.as_dict()) == arch
    hash(arch)  # frozen, usable as a key


def test_rounding_does_not_change_explicit_stages():
    arch = dict(depths=[1, 1], widths=[24, 400], group_widths=[8, 16])
    assert stage_specs(arch, rounding='torchvision') == stage_specs(arch)


@pytest.mark.parametrize('arch, error, words', [
    (dict(depths=[1, 2], widths=[32, 64, 128], group_widths=8), ValueError,
     'widths has 3 values but depths has 2 stages'),
    (dict(depths=[1, 2], widths=[32, 64], group_widths=[8, 8, 8]), ValueError,
     'group_widths has 3 values'),
    (dict(depths=[1, 0], widths=[32, 64], group_widths=8), ValueError,
     'depths[1]'),
    (dict(depths=[1, 2], widths=[32, -64], group_widths=8), ValueError,
     'widths[1]=-64'),
    (dict(depths=[1, 2], widths=[32, 64], group_widths=[8, 0]), ValueError,
     'group_widths[1]=0'),
    (dict(depths=[1, 2], widths=[32, 64], group_widths=8, bot_muls=[1, 0]),
     ValueError, 'bot_muls[1]=0'),
    (dict(depths=[1, 2], widths=[32, 72], group_widths=[8, 48]), ValueError,
     'group_widths[1]=48 does not divide the bottleneck width 72'),
    (dict(depths=[1], widths=[32], group_widths=24, bot_muls=0.5), ValueError,
     'group_widths[0]=24 does not divide the bottleneck width 16'),
    (dict(depths=[], widths=[], group_widths=8), ValueError, 'depths'),
    (dict(depths=3, widths=[32], group_widths=8), ValueError, 'depths=3'),
    (dict(depths=[1], widths=[32], group_widths=8, se_ratio=1.0), ValueError,
     'se_ratio'),
    (dict(depths=[1], widths=[32.0], group_widths=8), TypeError, 'widths[0]'),
    (dict(depths=[1], widths=[32], group_widths=8, w0=24), ValueError,
     "Unknown AnyNet arch keys ['w0']"),
    (dict(depths=[1], group_widths=8), ValueError, "misses keys ['widths']"),
])
def test_bad_anynet_raises_naming_the_field_and_value(arch, error, words):
    with pytest.raises(error) as info:
        stage_specs(arch)
    assert words in str(info.value)
    with pytest.raises(error):
        RegNet(arch)
