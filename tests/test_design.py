"""The design space: widths, stages, validation and analytic complexity."""
import pytest

from mmregnet.design import (ARCH_SETTINGS, EXTRA_ARCH_SETTINGS, NAMED_ARCHS,
                             RegNetParams, complexity, quantized_block_widths,
                             resolve_arch, stage_specs)

# arch: (stage widths, stage depths, group widths, params with a 1000-class
# head (pycls / torchvision model zoos), activations in M (timm's table))
GOLDEN = {
    'regnetx_200mf': ([24, 56, 152, 368], [1, 1, 4, 7], [8] * 4, 2684792, 2.16),
    'regnetx_400mf': ([32, 64, 160, 384], [1, 2, 7, 12], [16] * 4, 5157512, 3.14),
    'regnetx_600mf': ([48, 96, 240, 528], [1, 3, 5, 7], [24] * 4, 6196040, 3.98),
    'regnetx_800mf': ([64, 128, 288, 672], [1, 3, 7, 5], [16] * 4, 7259656, 5.15),
    'regnetx_1.6gf': ([72, 168, 408, 912], [2, 4, 10, 2], [24] * 4, 9190136, 7.93),
    'regnetx_3.2gf': ([96, 192, 432, 1008], [2, 6, 15, 2], [48] * 4, 15296552, 11.37),
    'regnetx_4.0gf': ([80, 240, 560, 1360], [2, 5, 14, 2], [40] * 4, 22118248, 12.2),
    'regnetx_6.4gf': ([168, 392, 784, 1624], [2, 4, 10, 1], [56] * 4, 26209256, 16.37),
    'regnetx_8.0gf': ([80, 240, 720, 1920], [2, 5, 15, 1], [80, 120, 120, 120], 39572648, 14.06),
    'regnetx_12gf': ([224, 448, 896, 2240], [2, 5, 11, 1], [112] * 4, 46106056, 21.37),
    'regnetx_16gf': ([256, 512, 896, 2048], [2, 6, 13, 1], [128] * 4, 54278536, 25.52),
    'regnetx_32gf': ([336, 672, 1344, 2520], [2, 7, 13, 1], [168] * 4, 107811560, 36.3),
    'regnety_200mf': ([24, 56, 152, 368], [1, 1, 4, 7], [8] * 4, 3162996, 2.17),
    'regnety_400mf': ([48, 104, 208, 440], [1, 3, 6, 6], [8] * 4, 4344144, 3.89),
    'regnety_600mf': ([48, 112, 256, 608], [1, 3, 7, 4], [16] * 4, 6055160, 4.33),
    'regnety_800mf': ([64, 128, 320, 768], [1, 3, 8, 2], [16] * 4, 6263168, 5.25),
    'regnety_1.6gf': ([48, 120, 336, 888], [2, 6, 17, 2], [24] * 4, 11202430, 8.04),
    'regnety_3.2gf': ([72, 216, 576, 1512], [2, 5, 13, 1], [24] * 4, 19436338, 11.26),
    'regnety_4.0gf': ([128, 192, 512, 1088], [2, 6, 12, 2], [64] * 4, 20646656, 12.29),
    'regnety_6.4gf': ([144, 288, 576, 1296], [2, 7, 14, 2], [72] * 4, 30583252, 16.41),
    'regnety_8.0gf': ([168, 448, 896, 2016], [2, 4, 10, 1], [56] * 4, 39180068, 17.97),
    'regnety_12gf': ([224, 448, 896, 2240], [2, 5, 11, 1], [112] * 4, 51822544, 21.38),
    'regnety_16gf': ([224, 448, 1232, 3024], [2, 4, 11, 1], [112] * 4, 83590140, 23.04),
    'regnety_32gf': ([232, 696, 1392, 3712], [2, 5, 12, 1], [232] * 4, 145046770, 30.26),
}

# Published multiply-adds in GFLOPs: pycls's model zoo for RegNetX (as listed
# beside it in the torchvision-style reproduction) and Y-1.6GF.
PUBLISHED_GFLOPS = {
    'regnetx_200mf': 0.199, 'regnetx_400mf': 0.398, 'regnetx_600mf': 0.601,
    'regnetx_800mf': 0.800, 'regnetx_1.6gf': 1.603, 'regnetx_3.2gf': 3.177,
    'regnetx_4.0gf': 3.965, 'regnetx_6.4gf': 6.460, 'regnetx_8.0gf': 7.995,
    'regnetx_12gf': 12.087, 'regnetx_16gf': 15.941, 'regnetx_32gf': 31.736,
    'regnety_1.6gf': 1.612,
}


def test_arch_table_has_the_24_published_models():
    assert sorted(ARCH_SETTINGS) == sorted(GOLDEN)
    for name, params in ARCH_SETTINGS.items():
        assert params.se_ratio == (0.25 if name.startswith('regnety') else 0)
        assert params.bot_mul == 1.0


@pytest.mark.parametrize('arch', sorted(GOLDEN))
def test_stage_widths_depths_groups_and_params_are_pycls_exact(arch):
    widths, depths, group_ws, params, acts = GOLDEN[arch]
    stages = stage_specs(arch)
    assert [s.width for s in stages] == widths
    assert [s.depth for s in stages] == depths
    assert [s.group_w for s in stages] == group_ws
    assert [s.groups for s in stages] == [
        w // g for w, g in zip(widths, group_ws)]
    cx = complexity(stages)
    assert cx.params == params
    assert round(cx.acts / 1e6, 2) == acts


@pytest.mark.parametrize('arch', sorted(PUBLISHED_GFLOPS))
def test_flops_within_half_a_percent_of_published(arch):
    flops = complexity(stage_specs(arch)).flops / 1e9
    assert flops == pytest.approx(PUBLISHED_GFLOPS[arch], rel=0.005)


def test_flops_scale_with_input_size():
    stages = stage_specs('regnetx_400mf')
    base = complexity(stages, input_size=224, num_classes=0)
    double = complexity(stages, input_size=(448, 448), num_classes=0)
    assert double.flops == 4 * base.flops  # every map is twice as wide
    assert double.params == base.params
    odd = complexity(stages, input_size=(225, 161), num_classes=0)
    assert odd.flops > complexity(stages, (224, 160), num_classes=0).flops


def test_block_widths_follow_the_quantized_linear_rule():
    # u_j = 24 + 24.48 j snapped to 24 * 2.54^s and multiples of 8
    widths = quantized_block_widths(24, 24.48, 2.54, 22)
    assert widths[:3] == (24, 64, 64)
    assert all(w % 8 == 0 for w in widths)
    assert list(widths) == sorted(widths)


def test_wm_of_one_gives_a_single_stage():
    stages = stage_specs(dict(w0=64, wa=8.0, wm=1.0, depth=5, group_w=16))
    assert [(s.width, s.depth) for s in stages] == [(64, 5)]


@pytest.mark.parametrize('arch, widths', [
    ('regnetx_400mf', [32, 64, 160, 400]),
    ('regnety_800mf', [64, 144, 320, 784]),
    ('regnety_8.0gf', [224, 448, 896, 2016]),
    ('regnetx_3.2gf', [96, 192, 432, 1008]),
])
def test_torchvision_rounding_widens_three_archs(arch, widths):
    specs = stage_specs(arch, rounding='torchvision')
    assert [s.width for s in specs] == widths


def test_extra_arch_is_torchvisions_regnety_128gf_kept_apart_from_the_24():
    # torchvision/models/regnet.py, regnet_y_128gf: BlockParams.
    # from_init_params(depth=27, w_0=456, w_a=160.83, w_m=2.52,
    # group_width=264, se_ratio=0.25)
    y128 = RegNetParams(w0=456, wa=160.83, wm=2.52, depth=27, group_w=264,
                        se_ratio=0.25)
    assert EXTRA_ARCH_SETTINGS['regnety_128gf'] == y128
    assert not set(EXTRA_ARCH_SETTINGS) & set(ARCH_SETTINGS)
    assert NAMED_ARCHS == {**ARCH_SETTINGS, **EXTRA_ARCH_SETTINGS}
    assert resolve_arch('regnety_128gf') == y128
    for rounding in ('pycls', 'torchvision'):  # both give torchvision's
        stages = stage_specs('regnety_128gf', rounding=rounding)
        assert [s.width for s in stages] == [528, 1056, 2904, 7392]
        assert [s.depth for s in stages] == [2, 7, 17, 1]
        assert [s.group_w for s in stages] == [264] * 4
        # torchvision's RegNet_Y_128GF_Weights meta num_params
        assert complexity(stages).params == 644812894


def test_torchvision_rounding_params_match_torchvision_model_zoo():
    cx = complexity(stage_specs('regnetx_400mf', rounding='torchvision'))
    assert cx.params == 5495976


def test_explicit_dict_equals_named_arch():
    named = ARCH_SETTINGS['regnety_1.6gf']
    explicit = dict(w0=48, wa=20.71, wm=2.65, depth=27, group_w=24,
                    se_ratio=0.25)
    assert resolve_arch(explicit) == named
    assert stage_specs(explicit) == stage_specs('regnety_1.6gf')


def test_bottleneck_ratio_and_se_widths():
    stages = stage_specs(dict(w0=32, wa=16.0, wm=2.0, depth=6, group_w=8,
                              bot_mul=0.5, se_ratio=0.25))
    for s in stages:
        assert s.bottleneck_width == s.width // 2
        assert s.bottleneck_width % s.group_w == 0
    assert stages[0].se_width(32) == 8


@pytest.mark.parametrize('arch, error, words', [
    (dict(w0=0, wa=1.0, wm=2.0, depth=4, group_w=8), ValueError, 'w0'),
    (dict(w0=24, wa=0.0, wm=2.0, depth=4, group_w=8), ValueError, 'wa'),
    (dict(w0=24, wa=-3, wm=2.0, depth=4, group_w=8), ValueError, 'wa'),
    (dict(w0=24, wa=8.0, wm=0.5, depth=4, group_w=8), ValueError, 'wm'),
    (dict(w0=24, wa=8.0, wm=2.0, depth=0, group_w=8), ValueError, 'depth'),
    (dict(w0=24, wa=8.0, wm=2.0, depth=4.5, group_w=8), TypeError, 'depth'),
    (dict(w0='24', wa=8.0, wm=2.0, depth=4, group_w=8), TypeError, 'w0'),
    (dict(w0=24, wa=8.0, wm=2.0, depth=4, group_w=0), ValueError, 'group_w'),
    (dict(w0=24, wa=8.0, wm=2.0, depth=4, group_w=8, bot_mul=0), ValueError,
     'bot_mul'),
    (dict(w0=24, wa=8.0, wm=2.0, depth=4, group_w=8, se_ratio=1.5),
     ValueError, 'se_ratio'),
    (dict(w0=24, wa=float('nan'), wm=2.0, depth=4, group_w=8), ValueError,
     'wa'),
    (dict(w0=24, wa=8.0, wm=2.0, depth=4, group_w=8, groups=2), ValueError,
     "['groups']"),
    (dict(w0=24, wa=8.0, wm=2.0, group_w=8), ValueError, "['depth']"),
    (dict(w0=24, wa=8.0, wm=2.0, depth=4, group_w=512), ValueError,
     'group_w=512'),
    (dict(w0=2, wa=8.0, wm=2.0, depth=4, group_w=1), ValueError, 'w0=2'),
    (dict(w0=8, wa=64.0, wm=2.0, depth=10, group_w=8), ValueError,
     'stages'),
    (['regnetx_400mf'], TypeError, 'arch'),
])
def test_bad_design_raises_naming_the_field(arch, error, words):
    with pytest.raises(error, match=None) as info:
        stage_specs(arch)
    assert words in str(info.value)


def test_unknown_arch_lists_close_matches_and_all_names():
    with pytest.raises(ValueError) as info:
        resolve_arch('regnetx_400')
    message = str(info.value)
    assert "'regnetx_400'" in message
    assert 'Did you mean regnetx_400mf' in message
    assert all(name in message for name in NAMED_ARCHS)  # and RegNetY-128GF


def test_unknown_rounding_names_the_modes():
    with pytest.raises(ValueError, match="'pycls', 'torchvision'"):
        stage_specs('regnetx_400mf', rounding='timm')


def test_params_are_hashable_and_frozen():
    params = RegNetParams(24, 24.48, 2.54, 22, 16)
    assert params == ARCH_SETTINGS['regnetx_400mf']
    with pytest.raises(Exception):
        params.w0 = 32
