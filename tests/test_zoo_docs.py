"""docs/model_zoo.md is generated from the model index by
tools/analysis_tools/zoo_docs.py: the committed page is what the index gives
now, it lists every entry with its published accuracy, and the figures are
drawn."""
import shutil
import xml.etree.ElementTree as ElementTree

import pytest
from mmengine.config import Config
from PIL import Image

from mmregnet.model_index import list_models, load_model_index
from mmregnet.zoo import zoo_entry
from tools.analysis_tools import zoo_docs
from tools.analysis_tools.zoo_benchmark import eval_input_size


def test_the_committed_page_is_what_the_index_gives(capsys):
    zoo_docs.main(['--check'])
    assert 'is up to date' in capsys.readouterr().out


def test_a_stale_page_fails_the_check(tmp_path):
    stale = tmp_path / 'model_zoo.md'
    text = zoo_docs.PAGE.read_text()
    stale.write_text(text.replace('| 72.560 |', '| 72.561 |', 1))
    assert stale.read_text() != text
    with pytest.raises(SystemExit) as error:
        zoo_docs.main(['--check', '--out', str(stale)])
    assert str(error.value.code) == (
        f'{stale} is stale: regenerate it with python '
        'tools/analysis_tools/zoo_docs.py')


def test_the_page_lists_every_entry_with_its_published_accuracy():
    text = zoo_docs.PAGE.read_text()
    for name in list_models():
        assert f'| `{name}` |' in text, name
    row = next(line for line in text.splitlines()
               if line.startswith('| `regnetx-400mf_8xb128_in1k` |'))
    assert row.endswith('| 224 | 72.560 | 90.780 |'), row
    row = next(line for line in text.splitlines()
               if line.startswith('| `mask-rcnn_regnetx-3.2gf_fpn_1x_coco` |'))
    assert row.endswith('| 40.3 | 36.6 |'), row
    for section in ('## OpenMMLab', '## pycls', '## torchvision', '## timm',
                    '## Detectors (COCO)'):
        assert section in text


def test_the_figures_are_drawn_from_the_index_and_the_reference_run(
        tmp_path):
    page = tmp_path / 'model_zoo.md'
    measured = tmp_path / 'model_zoo' / 'reference_cpu.csv'
    measured.parent.mkdir()
    shutil.copy(zoo_docs.MEASURED, measured)
    zoo_docs.main(['--out', str(page), '--measured', str(measured),
                   '--figures'])
    for stem in ('top1_vs_gflops', 'pareto_cpu'):
        png = Image.open(tmp_path / 'model_zoo' / f'{stem}.png')
        png.load()
        assert png.size[0] > 600
        root = ElementTree.parse(tmp_path / 'model_zoo' / f'{stem}.svg')
        assert root.getroot().tag.endswith('svg')


@pytest.mark.parametrize('name', [
    'regnetx-400mf_8xb128_in1k',
    'regnety-16gf_3rdparty-tv-swag-e2e_in1k-384px',
    'regnety-4.0gf_3rdparty-timm-ra3_in1k',
    'mask-rcnn_regnetx-3.2gf_fpn_1x_coco',
])
def test_arch_and_input_size_read_from_the_name_are_the_configs(name):
    meta = load_model_index()[name]
    entry = zoo_entry(meta)
    cfg = Config.fromfile(meta.config)
    assert entry.arch == cfg.model.backbone.arch
    if not entry.detector:
        assert entry.input_size == eval_input_size(cfg)
