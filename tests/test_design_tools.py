"""tools/design: configs derived by scale_config.py, and the tools' answers
to bad input."""
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from mmregnet.apis.derive import config_literal, parse_count
from mmregnet.design import complexity, stage_specs
from mmregnet.registry import MODELS
from tools.design import analyze_sweep, sample_sweep, scale_config

ROOT = Path(__file__).resolve().parents[1]
DIGITS = 'configs/quickstart/regnet-tiny_1xb64_digits.py'
FASTER_RCNN = 'configs/mmdet/faster-rcnn_regnetx-3.2gf_fpn_1x_coco.py'


def _tool(name, *args):
    return subprocess.run([sys.executable, f'tools/design/{name}', *args],
                          cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_scaled_classification_config_builds_the_reported_model(tmp_path):
    out = tmp_path / 'nested' / 'scaled.py'
    result = _tool('scale_config.py', DIGITS, '--flops', '3M', '--out',
                   str(out))
    assert result.returncode == 0, result.stderr
    cfg = Config.fromfile(str(out))
    backbone = MODELS.build(cfg.model.backbone)
    assert cfg.model.head.in_channels == backbone.stage_widths[-1]
    # the pipelines follow the resolution factor: 32 -> 36
    crop = cfg.train_dataloader.dataset.pipeline[1]
    assert crop.type == 'RandomResizedCrop' and crop.scale == 36
    flops = backbone.complexity(36, num_classes=10).flops
    assert flops == pytest.approx(3e6, rel=0.03)
    assert f'{flops / 1e9:.4f} GFLOPs at 36x36' in result.stdout
    # everything else is inherited from the base config
    assert cfg.model.backbone.stem_channels == 16
    assert cfg.train_cfg.max_epochs == 20


def test_scaled_detection_config_feeds_the_new_widths_to_the_fpn(tmp_path):
    out = tmp_path / 'det.py'
    result = _tool('scale_config.py', FASTER_RCNN, '--factor', '2', '--out',
                   str(out))
    assert result.returncode == 0, result.stderr
    assert 'pretrained backbone weights dropped' in result.stdout
    cfg = Config.fromfile(str(out))
    backbone = MODELS.build(cfg.model.backbone)
    assert list(cfg.model.neck.in_channels) == list(backbone.out_channels)
    assert backbone.stage_widths == (128, 256, 576, 1344)
    assert cfg.model.backbone.init_cfg is None
    assert cfg.model.backbone.frozen_stages == 1  # inherited
    # r = 2^(1/20): 1333 x 800 -> 1380 x 828
    resize = cfg.train_dataloader.dataset.pipeline[2]
    assert tuple(resize.scale) == (1380, 828)
    assert complexity(stage_specs(backbone.arch), 232, num_classes=0).flops \
        == backbone.complexity(232).flops


@pytest.mark.parametrize('args, words', [
    (['no/such.py', '--factor', '2', '--out', 'x.py'],
     'no such config file: no/such.py'),
    ([DIGITS, '--factor', '2', '--out', 'x.txt'], '.py config'),
    ([DIGITS, '--factor', '-1', '--out', 'x.py'], 'factor=-1.0'),
    ([DIGITS, '--flops', '2M', '--out', 'x.py'], 'nearest: factor'),
    ([DIGITS, '--factor', '2', '--scaling', 'q2', '--out', 'x.py'],
     "scaling='q2'"),
])
def test_scale_config_answers_bad_input_in_one_line(args, words, tmp_path,
                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written
    monkeypatch.setattr(sys, 'argv', ['scale_config.py', *[
        str(ROOT / arg) if arg == DIGITS else arg for arg in args]])
    with pytest.raises(SystemExit) as info:
        scale_config.main()
    assert words in str(info.value.code)
    assert not list(tmp_path.iterdir())


def test_unreadable_count_is_an_argument_error(monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', ['scale_config.py', DIGITS, '--flops',
                                      'lots', '--out', 'x.py'])
    with pytest.raises(SystemExit):
        scale_config.main()
    assert "--flops: invalid parse_count value: 'lots'" in \
        capsys.readouterr().err


def test_sweep_tools_refuse_bad_folders_and_ranges(tmp_path, monkeypatch):
    (tmp_path / 'manifest.json').write_text('{}')
    monkeypatch.chdir(ROOT)
    for tool, args, words in [
        (sample_sweep, [DIGITS, '--num', '2', '--out-dir', str(tmp_path)],
         'choose another --out-dir'),
        (sample_sweep, [DIGITS, '--num', '2', '--range', 'w0', '12', '64',
                        '--out-dir', str(tmp_path / 'new')], "ranges['w0']"),
        (analyze_sweep, [str(tmp_path / 'empty')], 'manifest.json not found'),
    ]:
        monkeypatch.setattr(sys, 'argv', ['tool.py', *args])
        with pytest.raises(SystemExit) as info:
            tool.main()
        assert words in str(info.value.code)
    assert not (tmp_path / 'new').exists()


@pytest.mark.parametrize('text, value', [('1.2G', 1.2e9), ('400M', 4e8),
                                         ('3e8', 3e8), ('64k', 64e3),
                                         ('12', 12.0)])
def test_counts_read_with_units(text, value):
    assert parse_count(text) == value


def test_bad_count_names_the_text():
    with pytest.raises(ValueError, match="'1.2 G'"):
        parse_count('1.2 G')


def test_written_values_read_back_unchanged():
    value = dict(a=[1, (2, 3), (4, )], b={'x/y': 1.5, 'z': None},
                 c=dict(deep=dict(deeper=list(range(40)))),
                 d='{{ fileDirname }}')
    source = config_literal(value, column=8)
    assert eval(source) == value
    assert all(len(line) <= 79 for line in source.splitlines()[1:])
