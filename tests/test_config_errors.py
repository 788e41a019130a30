"""A config that is missing or does not parse is one line naming the file
(and the line, where there is one), from the API and from every tool that
takes a config, with exit status 1: never a traceback."""
import subprocess
import sys
from pathlib import Path

import pytest

import mmregnet
from mmregnet.engine import ConfigError, read_config

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / 'configs/quickstart/regnet-tiny_1xb64_digits.py'


@pytest.fixture()
def configs(tmp_path):
    """A config with a syntax error on line 3, one that inherits it, one
    whose base is missing and one that names an undefined variable."""
    (tmp_path / 'broken.py').write_text('a = 1\n\nb = (\n')
    (tmp_path / 'child.py').write_text("_base_ = ['./broken.py']\nc = 2\n")
    (tmp_path / 'orphan.py').write_text("_base_ = ['./gone.py']\n")
    (tmp_path / 'undefined.py').write_text('x = undefined_name\n')
    return tmp_path


def test_read_config_names_the_file_and_line(configs):
    cases = {
        'missing.py': f'no such config file: {configs}/missing.py',
        'broken.py': f"config {configs}/broken.py line 3 does not parse: "
        "'(' was never closed",
        # the error is in the base: that file, its line
        'child.py': f"config {configs}/broken.py line 3 does not parse: "
        "'(' was never closed",
        'orphan.py': f'config {configs}/orphan.py cannot be read: '
        'FileNotFoundError',
        'undefined.py': f'config {configs}/undefined.py cannot be read: '
        "NameError: name 'undefined_name' is not defined",
    }
    for name, expected in cases.items():
        with pytest.raises(ConfigError) as error:
            read_config(configs / name)
        message = str(error.value)
        assert message.startswith(expected), message
        assert '\n' not in message


def test_read_config_reads_a_good_config():
    assert read_config(QUICKSTART).model.backbone.type == 'mmregnet.RegNet'


def test_get_model_raises_the_config_error(configs):
    with pytest.raises(ConfigError, match='broken.py line 3 does not parse'):
        mmregnet.get_model(str(configs / 'child.py'))


def test_model_config_raises_the_config_error(configs):
    from mmregnet.apis.hub import model_config
    with pytest.raises(ConfigError, match='no such config file: '):
        model_config(str(configs / 'missing.py'))


def _tool(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize('tool, name, extra, expected', [
    ('tools/train.py', 'missing.py', [], 'no such config file: '),
    ('tools/train.py', 'child.py', [], 'broken.py line 3 does not parse'),
    ('tools/test.py', 'broken.py', ['CHECKPOINT'],
     'broken.py line 3 does not parse'),
    ('tools/misc/print_config.py', 'missing.py', [], 'no such config file'),
])
def test_tools_stop_with_one_line(configs, tool, name, extra, expected):
    checkpoint = configs / 'weights.pth'
    checkpoint.write_bytes(b'never read: the config is refused first')
    extra = [checkpoint if a == 'CHECKPOINT' else a for a in extra]
    result = _tool(tool, configs / name, *extra)
    assert result.returncode == 1
    line, = result.stderr.strip().splitlines()
    assert line.startswith('error: ') and expected in line, line
