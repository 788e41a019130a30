"""Sampling RegNets from the design space, as pycls's sweeps do."""
import pytest

from mmregnet.design import (SAMPLE_RANGES, complexity, quantized_block_widths,
                             sample, stage_specs)


def _is_multiple(value, step):
    return abs(round(value / step) * step - value) < 1e-9


def test_samples_are_quantized_within_the_ranges_with_four_stages():
    samples = sample(64, seed=1)
    for s in samples:
        assert set(s) == {'w0', 'wa', 'wm', 'depth', 'group_w', 'bot_mul',
                          'se_ratio'}
        assert 12 <= s['depth'] <= 28 and isinstance(s['depth'], int)
        assert 8 <= s['w0'] <= 256 and s['w0'] % 8 == 0
        assert 8 <= s['wa'] <= 256 and _is_multiple(s['wa'], 0.1)
        assert 2 <= s['wm'] <= 3 and _is_multiple(s['wm'], 0.001)
        assert 8 <= s['group_w'] <= 128 and s['group_w'] % 8 == 0
        assert s['bot_mul'] == 1.0 and s['se_ratio'] == 0.0
        assert len(stage_specs(s)) == 4
        widths = quantized_block_widths(s['w0'], s['wa'], s['wm'],
                                        s['depth'])
        assert len(set(widths)) == 4
    # the draws spread over the ranges, not a corner of them
    depths = [s['depth'] for s in samples]
    assert min(depths) <= 15 and max(depths) >= 25
    assert min(s['wm'] for s in samples) < 2.3 < 2.7 < max(
        s['wm'] for s in samples)


def test_same_seed_same_list_other_seed_other_list():
    assert sample(16, seed=3) == sample(16, seed=3)
    assert sample(16, seed=3) != sample(16, seed=4)
    assert sample(4, seed=3) == sample(16, seed=3)[:4]


def test_samples_are_distinct():
    samples = sample(200, seed=0, ranges=dict(depth=(12, 13)))
    assert len({tuple(s.items()) for s in samples}) == 200


def test_flops_and_params_bounds_hold():
    samples = sample(24, flops=(0.3e9, 0.5e9), params=(3e6, 8e6))
    for s in samples:
        cx = complexity(s)
        assert 0.3e9 <= cx.flops <= 0.5e9
        assert 3e6 <= cx.params <= 8e6


def test_bounds_count_with_the_given_input_head_and_stem():
    counting = dict(input_size=32, num_classes=10, stem_channels=16)
    samples = sample(8, flops=(2e6, 4e6), complexity_kwargs=counting,
                     se_ratio=0.25)
    for s in samples:
        assert s['se_ratio'] == 0.25
        assert 2e6 <= complexity(s, **counting).flops <= 4e6


def test_ranges_narrow_the_design_space():
    ranges = dict(w0=(16, 32), wm=(2.5, 2.5), group_w=(8, 8))
    for s in sample(20, ranges=ranges):
        assert s['w0'] in (16, 24, 32)
        assert s['wm'] == 2.5 and s['group_w'] == 8
    assert SAMPLE_RANGES['w0'] == (8, 256)  # defaults untouched


@pytest.mark.parametrize('kwargs, words', [
    (dict(ranges=dict(width=(8, 16))), "Unknown ranges keys ['width']"),
    (dict(ranges=dict(w0=(16, 8))), "ranges['w0']"),
    (dict(ranges=dict(w0=(12, 256))), 'multiples of 8'),
    (dict(ranges=dict(wa=(0, 256.0))), "ranges['wa']"),
    (dict(ranges=dict(group_w=(8, 96))), 'powers of 2'),
    (dict(ranges=dict(depth=12)), "ranges['depth']"),
    (dict(flops=(5e8, 3e8)), 'flops'),
    (dict(params=1e6), 'params'),
    (dict(se_ratio=1.5), 'se_ratio=1.5'),
    (dict(flops=(1, 2), max_draws=500), 'only 0 of num=4 samples'),
])
def test_bad_sampling_arguments_raise_naming_the_value(kwargs, words):
    with pytest.raises(ValueError) as info:
        sample(4, **kwargs)
    assert words in str(info.value)


def test_num_and_seed_are_checked():
    with pytest.raises(ValueError, match='num'):
        sample(0)
    with pytest.raises(TypeError, match='seed'):
        sample(2, seed=1.5)
