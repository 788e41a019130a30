"""Model scaling ("Fast and Accurate Model Scaling"), checked against
pycls's scaler arithmetic worked by hand."""
import math

import pytest

from mmregnet.design import (FLOPS_TOLERANCE, complexity, scale,
                             scale_factor_for, scaling_factors, stage_specs)
from mmregnet.models import RegNet


def _stages(scaled):
    return ([s.depth for s in stage_specs(scaled.arch)],
            [s.width for s in stage_specs(scaled.arch)],
            [s.group_w for s in stage_specs(scaled.arch)])


@pytest.mark.parametrize('scaling, factors', [
    # S = wd + ww + wr = 10: d = s^(1/10), w = g = s^(8/20), r = s^(1/20)
    ('d1_w8_g8_r1', (4**0.1, 4**0.4, 4**0.4, 4**0.05)),
    # letters only weigh 1: S = 2, d = s^(1/2), w = s^(1/4)
    ('dw', (2.0, 4**0.25, 1.0, 1.0)),
    ('dwr', (4**(1 / 3), 4**(1 / 6), 1.0, 4**(1 / 6))),
    # group width alone: S = wg / 2
    ('g', (1.0, 1.0, 4.0, 1.0)),
    ('w2', (1.0, 2.0, 1.0, 1.0)),
])
def test_scaling_factors_follow_the_weights(scaling, factors):
    assert scaling_factors(scaling, 4.0) == pytest.approx(factors)
    d, w, _, r = factors
    if d * w * w * r * r != 1:  # the flops grow by the factor
        assert d * w * w * r * r == pytest.approx(4.0)


def test_regnetx_400mf_times_4_with_fast_compound_scaling():
    # stages: depths 1 2 7 12, widths 32 64 160 384, g 16;
    # d = 4^0.1 = 1.149, w = g = 4^0.4 = 1.741, r = 4^0.05 = 1.072
    # depths round(1.149 * [1, 2, 7, 12]) = 1 2 8 14
    # widths round(1.741 * [32, 64, 160, 384] / 8) * 8 = 56 112 280 672
    # g round(16 * 1.741) = 28 -> round(28 / 8) * 8 = 32 (half to even)
    # compatible: bottlenecks to multiples of 32: 64 128 288 672
    # input round(224 * 1.072 / 4) * 4 = 240
    scaled = scale('regnetx_400mf', 4)
    assert _stages(scaled) == ([1, 2, 8, 14], [64, 128, 288, 672], [32] * 4)
    assert scaled.input_size == 240
    assert scaled.arch['se_ratio'] == 0
    assert scaled.arch['bot_muls'] == [1.0] * 4


def test_regnety_1_6gf_times_half_with_fast_compound_scaling():
    # stages: depths 2 6 17 2, widths 48 120 336 888, g 24;
    # d = 0.5^0.1 = 0.933, w = g = 0.5^0.4 = 0.758, r = 0.5^0.05 = 0.966
    # depths 1.87 5.60 15.86 1.87 -> 2 6 16 2
    # widths 48 120 336 888 x 0.758 / 8 = 4.55 11.37 31.83 84.12
    #   -> 40 88 256 672
    # g round(24 * 0.758) = 18 -> round(2.25) * 8 = 16
    # compatible: 40 / 16 = 2.5 -> 2 (half to even): 32; 88 / 16 = 5.5 -> 96
    # input round(224 * 0.966 / 4) * 4 = 216
    scaled = scale('regnety_1.6gf', 0.5)
    assert _stages(scaled) == ([2, 6, 16, 2], [32, 96, 256, 672], [16] * 4)
    assert scaled.input_size == 216
    assert scaled.arch['se_ratio'] == 0.25


def test_depth_and_width_scaling_dw():
    # d = 2, w = sqrt(2), g and r unchanged: depths 2 4 14 24,
    # widths 45.3 90.5 226.3 543.1 -> 48 88 224 544, 88 -> 96 for g = 16
    scaled = scale('regnetx_400mf', 4, scaling='dw')
    assert _stages(scaled) == ([2, 4, 14, 24], [48, 96, 224, 544], [16] * 4)
    assert scaled.input_size == 224


def test_group_widths_are_quantized_like_pycls():
    # width and group factors of 1: groups <= 2 stay, <= 5 become 4,
    # larger ones multiples of 8
    arch = dict(depths=[1, 1, 1, 1], widths=[48] * 4,
                group_widths=[1, 2, 3, 6])
    scaled = scale(arch, 2.0, scaling='d')
    assert _stages(scaled) == ([2] * 4, [48] * 4, [1, 2, 4, 8])


def test_pure_depth_scaling_by_one_keeps_the_regnet_stages():
    scaled = scale('regnetx_8.0gf', 1.0, scaling='d')
    assert stage_specs(scaled.arch) == stage_specs('regnetx_8.0gf')


def test_regnety_1_6gf_scaled_to_4_gflops():
    scaled = scale('regnety_1.6gf', flops=4e9)
    reached = complexity(scaled.arch, scaled.input_size).flops
    assert reached == pytest.approx(4e9, rel=FLOPS_TOLERANCE)
    model = RegNet(scaled.arch)
    assert sum(p.numel() for p in model.parameters()) == \
        model.complexity(num_classes=0).params


def test_regnetx_400mf_to_1_6_gflops_names_the_nearest_models():
    # fast compound scaling jumps from 1.47 G (g = 24, factor < 3.875) to
    # 1.67 G (g = 32): no model within 3 % of 1.6 G; both are named
    with pytest.raises(ValueError) as info:
        scale('regnetx_400mf', flops=1.6e9)
    message = str(info.value)
    assert '1,471,766,248 flops' in message
    assert '1,672,756,456 flops' in message
    # the same without group-width scaling reaches it
    factor = scale_factor_for('regnetx_400mf', 1.6e9, scaling='d1_w8_r1')
    scaled = scale('regnetx_400mf', factor, scaling='d1_w8_r1')
    reached = complexity(scaled.arch, scaled.input_size).flops
    assert reached == pytest.approx(1.6e9, rel=FLOPS_TOLERANCE)
    assert scale('regnetx_400mf', flops=1.6e9, scaling='d1_w8_r1') == scaled


def test_flops_target_counts_with_the_given_head_stem_and_input():
    quickstart = dict(w0=16, wa=16.0, wm=2.0, depth=6, group_w=8,
                      se_ratio=0.25)
    counting = dict(num_classes=10, stem_channels=16)
    scaled = scale(quickstart, flops=3e6, input_size=32,
                   complexity_kwargs=counting)
    reached = complexity(scaled.arch, scaled.input_size, **counting).flops
    assert reached == pytest.approx(3e6, rel=FLOPS_TOLERANCE)
    assert scaled.input_size % 4 == 0 and scaled.input_size > 32


@pytest.mark.parametrize('kwargs, words', [
    (dict(), 'exactly one of factor and flops'),
    (dict(factor=2, flops=1e9), 'exactly one of factor and flops'),
    (dict(factor=0), 'factor=0'),
    (dict(factor=2, scaling='d1_x2'), "scaling='d1_x2'"),
    (dict(factor=2, scaling='d1_w'), "scaling='d1_w'"),
    (dict(factor=2, scaling=''), "scaling=''"),
    (dict(flops=-1.0), 'flops=-1.0'),
    (dict(factor=2, input_size=0), 'input_size'),
    (dict(flops=1e9, complexity_kwargs=dict(input_size=64)), 'input_size'),
])
def test_bad_scaling_arguments_raise_naming_the_value(kwargs, words):
    with pytest.raises(ValueError) as info:
        scale('regnetx_400mf', **kwargs)
    assert words in str(info.value)


def test_scaled_dict_is_a_valid_backbone_arch_at_every_factor():
    for factor in (0.1, 0.3, 2.0, 8.0, 30.0):
        scaled = scale('regnety_400mf', factor)
        stages = stage_specs(scaled.arch)
        assert all(s.bottleneck_width % s.group_w == 0 for s in stages)
        assert all(s.width % 8 == 0 for s in stages)
        flops = complexity(stages, scaled.input_size).flops
        base = complexity(stage_specs('regnety_400mf')).flops
        assert math.log(flops / base) == pytest.approx(math.log(factor),
                                                       abs=0.5)
