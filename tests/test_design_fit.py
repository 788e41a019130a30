"""The quantized linear fit: design parameters from per-block widths."""
import pytest

from mmregnet.design import (ARCH_SETTINGS, fit, fit_error,
                             quantized_block_widths, sample)


@pytest.mark.parametrize('arch', sorted(ARCH_SETTINGS))
def test_fit_reproduces_the_block_widths_of_every_published_arch(arch):
    params = ARCH_SETTINGS[arch]
    widths = quantized_block_widths(params.w0, params.wa, params.wm,
                                    params.depth)
    fitted = fit(list(widths))
    assert set(fitted) == {'w0', 'wa', 'wm', 'depth'}
    assert fitted['depth'] == params.depth
    assert quantized_block_widths(**fitted) == widths
    assert fit_error(widths, **fitted) == 0


def test_fit_reproduces_sampled_regnets():
    for s in sample(20, seed=5):
        widths = quantized_block_widths(s['w0'], s['wa'], s['wm'], s['depth'])
        assert quantized_block_widths(**fit(widths)) == widths


def test_one_stage_fits_with_a_flat_ladder():
    fitted = fit([64, 64, 64])
    assert quantized_block_widths(**fitted) == (64, 64, 64)


def test_widths_no_regnet_has_get_the_best_fit_and_its_error():
    widths = [24, 48, 48, 100, 100, 200, 200, 200]  # 100 is no multiple of 8
    with pytest.warns(UserWarning, match='e_fit=') as record:
        fitted = fit(widths)
    error = fit_error(widths, **fitted)
    assert 0 < error < 0.15
    assert f'e_fit={error:.4f}' in str(record[0].message)
    # a worse guess has a larger error
    assert fit_error(widths, w0=24, wa=30.0, wm=2.0, depth=8) > error


def test_fit_error_is_the_mean_absolute_log_ratio():
    # one of four blocks twice as wide: e_fit = log(2) / 4
    fitted = quantized_block_widths(32, 16.0, 2.0, 4)
    widths = list(fitted)
    widths[-1] *= 2
    assert fit_error(widths, 32, 16.0, 2.0, 4) == pytest.approx(
        0.6931471805599453 / 4)


@pytest.mark.parametrize('widths', [[], [0, 8], [8, 'a'], None, [8.0, 16.0]])
def test_bad_widths_raise_naming_them(widths):
    with pytest.raises(ValueError, match='block_widths'):
        fit(widths)
