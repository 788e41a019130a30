"""tools/analysis_tools/zoo_benchmark.py: the zoo's measured speed beside
its published accuracy (results.csv, pareto.png/.svg, README.md), resuming,
the Pareto front, and one-line errors for bad arguments."""
import csv
import xml.etree.ElementTree as ElementTree

import pytest
from PIL import Image

from mmregnet.benchmarking import cpu_name
from mmregnet.zoo import pareto_front
from tools.analysis_tools import zoo_benchmark

X200 = 'regnetx-200mf_3rdparty-pycls_in1k'  # published top-1 68.9
Y200 = 'regnety-200mf_3rdparty-pycls_in1k'  # published top-1 70.4
TINY = ['--batch-sizes', '1', '--input-size', '32', '--rounds', '1',
        '--min-time', '0', '--threads', '1', '--gemm-size', '256']


def read_csv(path):
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        return tuple(reader.fieldnames), list(reader)


def test_the_pareto_front_excludes_dominated_models_and_keeps_ties():
    points = {
        'fastest': (0.5, 60.0),
        'cheap': (1.0, 70.0),
        'best': (2.0, 75.0),
        'tie of best': (2.0, 75.0),  # the same cost and accuracy: both stay
        'slower, as accurate': (3.0, 75.0),  # dominated by best
        'as fast, less accurate': (2.0, 74.0),  # dominated by best
        'slower, less accurate': (4.0, 65.0),
    }
    assert pareto_front(points) == ['fastest', 'cheap', 'best',
                                    'tie of best']
    assert pareto_front({}) == []


@pytest.mark.slow
def test_two_tiny_entries_end_to_end_then_resumed(tmp_path, capsys):
    out = tmp_path / 'zoo'
    zoo_benchmark.main(['--models', X200, '--out', str(out), '--precisions',
                        'fp32', 'int8'] + TINY)
    columns, rows = read_csv(out / 'results.csv')
    assert columns == zoo_benchmark.COLUMNS
    assert sorted((r['name'], r['precision'], r['batch']) for r in rows) == [
        (X200, 'fp32', '1'), (X200, 'int8', '1')]
    for r in rows:
        assert (r['top1'], r['top5']) == ('68.9', '')
        assert r['arch'] == 'regnetx_200mf'
        assert (r['publisher'], r['input_size']) == ('pycls', '32')
        assert float(r['ms_per_image']) > 0
        assert float(r['images_per_s']) == pytest.approx(
            1e3 / float(r['ms_per_image']), rel=1e-3)
        assert 0 < float(r['pct_of_gemm']) < 100
        assert r['cpu'] == cpu_name()
    assert 'ETA' in capsys.readouterr().err

    # a second run measures only what is missing: the sentinel stays
    for r in rows:
        r['ms_per_image'] = '12345' if r['precision'] == 'fp32' else \
            r['ms_per_image']
    zoo_benchmark.write_rows(out / 'results.csv', rows)
    zoo_benchmark.main(['--models', X200, Y200, '--out', str(out),
                        '--precisions', 'fp32'] + TINY)
    assert '1 networks already measured' in capsys.readouterr().err
    _, rows = read_csv(out / 'results.csv')
    measured = {(r['name'], r['precision']): r for r in rows}
    assert sorted(measured) == [(X200, 'fp32'), (X200, 'int8'),
                                (Y200, 'fp32')]
    assert measured[X200, 'fp32']['ms_per_image'] == '12345'
    assert measured[Y200, 'fp32']['top1'] == '70.4'

    png = Image.open(out / 'pareto.png')
    png.load()
    assert png.size[0] > 600 and png.size[1] > 300
    assert ElementTree.parse(out / 'pareto.svg').getroot().tag.endswith('svg')
    readme = (out / 'README.md').read_text()
    # the sentinel makes X-200MF slower and less accurate than Y-200MF
    assert '## fp32' in readme and '## int8' not in readme
    assert f'Pareto front (no other model is both faster and more ' \
        f'accurate): {Y200}\n' in readme


@pytest.mark.parametrize('argv, message', [
    (['--models', 'regnetz-*'], "--models 'regnetz-*' matches no index entry"),
    (['--models', 'mask-rcnn_regnetx-3.2gf*'], 'matches only detectors'),
    (['--precisions', 'fp8'], "invalid choice: 'fp8'"),
    (['--batch-sizes', '0'], '--batch-sizes must be at least 1, got 0'),
])
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, argv, message):
    out = tmp_path / 'zoo'
    with pytest.raises(SystemExit) as error:
        zoo_benchmark.main(argv + ['--out', str(out)])
    text = str(error.value.code) if error.value.code not in (None, 2) \
        else capsys.readouterr().err
    assert message in text
    assert text.strip().count('\n') == 0, text
    assert not out.exists()


def test_an_unwritable_out_folder_is_a_one_line_error(tmp_path):
    blocker = tmp_path / 'a file'
    blocker.write_text('')
    with pytest.raises(SystemExit) as error:
        zoo_benchmark.main(['--models', X200, '--out',
                            str(blocker / 'zoo')] + TINY)
    assert str(error.value.code).startswith(
        f"zoo_benchmark.py: error: --out '{blocker / 'zoo'}' is not a "
        'writable folder')
    assert '\n' not in str(error.value.code)
