"""Classification with mmcv-lite (mmcv without its compiled ops), as
``tools/quickstart.sh`` sets it up: the quick start trains, tests and
classifies, ``get_model`` builds classifiers, and every detection entry
point stops with one line naming the missing ops and the command that
installs them. ``tools/setup_env.sh`` switches between the two mmcv builds
and never leaves both installed (the last test: it leaves mmcv-lite).

The scratch environment links every package of this one except mmcv, and
``tools/setup_env.sh`` itself installs mmcv-lite (from the package index)
and the compiled mmcv (from the wheel the set-up cached) into it."""
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / 'configs/quickstart/regnet-tiny_1xb64_digits.py'
DETECTOR = ROOT / 'configs/mmdet/quickstart/faster-rcnn_regnetx-tiny_fpn_1xb8_shapes.py'  # noqa: E501
DETECTOR_ENTRY = 'faster-rcnn_regnetx-3.2gf_fpn_1x_coco'
CACHE = Path(os.environ.get('MMREGNET_CACHE',
                            Path.home() / '.cache' / 'mmregnet'))
#: one short epoch: 256 images, data loaded in the main process
SHORT_RUN = [
    'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
    *(f'{split}_dataloader.{key}'
      for split in ('train', 'val', 'test')
      for key in ('num_workers=0', 'dataset.indices=256'))
]
MISSING_OPS = re.compile(r"^error: .*mmcv's compiled ops are missing "
                         r'\(mmcv-lite 2\.1\.0 is installed.*'
                         r'bash tools/setup_env\.sh --det')

pytestmark = pytest.mark.slow


class Scratch:
    """A virtual environment that links this one's packages, mmcv's
    excepted, and runs tools/setup_env.sh and Python in it."""

    def __init__(self, root: Path):
        self.root = root
        self.venv = root / 'venv'
        subprocess.run(
            [sys.executable, '-m', 'venv', '--without-pip', self.venv],
            check=True)
        self.python = self.venv / 'bin' / 'python'
        self.site = Path(self.run_python(
            'import sysconfig; print(sysconfig.get_path("purelib"))').strip())
        for path in {sysconfig.get_path('purelib'),
                     sysconfig.get_path('platlib')}:
            for entry in Path(path).iterdir():
                if not entry.name.lower().startswith('mmcv'):
                    link = self.site / entry.name
                    if not link.exists():
                        link.symlink_to(entry)
        # this environment's requirements stamp: the set-up skips that step
        stamp = Path(sys.prefix, '.mmregnet-requirements')
        (self.venv / stamp.name).write_text(stamp.read_text())

    def env(self, **extra):
        env = dict(os.environ, PYTHONNOUSERSITE='1', **extra)
        env.pop('PYTHONPATH', None)
        env['PATH'] = f'{self.python.parent}{os.pathsep}{env["PATH"]}'
        return env

    def setup(self, mode, **extra):
        result = subprocess.run(
            ['bash', ROOT / 'tools/setup_env.sh', mode],
            env=self.env(MMREGNET_VENV=str(self.venv), **extra),
            capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        mmcv_lines = [line for line in result.stdout.splitlines()
                      if '] mmcv: ' in line]
        assert len(mmcv_lines) == 1, result.stdout  # says which, once
        return mmcv_lines[0]

    def run(self, *args, check=True, cwd=None):
        result = subprocess.run([str(a) for a in args], cwd=cwd or self.root,
                                env=self.env(), capture_output=True,
                                text=True, timeout=600)
        if check:
            assert result.returncode == 0, \
                f'{args}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}'
        return result

    def run_python(self, code, **kwargs):
        return self.run(self.python, '-c', code, **kwargs).stdout

    def mmcv_builds(self):
        """The installed distributions that own the ``mmcv`` package."""
        return json.loads(self.run_python(
            'import importlib.metadata as md, json; print(json.dumps(sorted('
            '{d.metadata["Name"].lower() for d in md.distributions()} & '
            '{"mmcv", "mmcv-lite"})))'))


@pytest.fixture(scope='module')
def lite(tmp_path_factory):
    scratch = Scratch(tmp_path_factory.mktemp('lite'))
    empty_cache = tmp_path_factory.mktemp('cache')  # no compiled mmcv wheel
    said = scratch.setup('--cls', MMREGNET_CACHE=str(empty_cache))
    assert 'installed mmcv-lite 2.1.0' in said
    assert scratch.mmcv_builds() == ['mmcv-lite']
    # idempotent: the second run keeps it and says so
    again = scratch.setup('--cls', MMREGNET_CACHE=str(empty_cache))
    assert 'mmcv-lite 2.1.0 present' in again
    return scratch


def _one_line_error(result):
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_quick_start_trains_tests_and_classifies_with_mmcv_lite(lite):
    lite.run(lite.python, ROOT / 'tools/dataset_converters/prepare_digits.py',
             'data/digits')
    train = lite.run(lite.python, ROOT / 'tools/train.py', QUICKSTART,
                     '--work-dir', 'work', '--cfg-options', *SHORT_RUN)
    assert re.search(r'Epoch\(val\) \[1\].*accuracy/top1: [0-9.]+',
                     train.stdout + train.stderr)
    checkpoint = lite.root / 'work' / 'epoch_1.pth'
    test = lite.run(lite.python, ROOT / 'tools/test.py', QUICKSTART,
                    checkpoint, '--work-dir', 'test', '--cfg-options',
                    *SHORT_RUN)
    assert 'accuracy/top1' in test.stdout.strip().splitlines()[-1]
    image = sorted((lite.root / 'data/digits/val/7').glob('*.png'))[0]
    demo = lite.run(lite.python, ROOT / 'demo/image_demo.py', image,
                    QUICKSTART, '--checkpoint', checkpoint)
    assert 'pred_class' in json.loads(demo.stdout.strip().splitlines()[-1])


def test_get_model_builds_a_classifier_with_mmcv_lite(lite):
    out = lite.run_python(
        'import torch, mmregnet\n'
        "model = mmregnet.get_model('regnetx-400mf_8xb128_in1k').eval()\n"
        'with torch.no_grad():\n'
        '    print(tuple(model(torch.rand(1, 3, 64, 64)).shape))\n'
        'import importlib.util\n'
        "print(importlib.util.find_spec('mmcv._ext'))")
    assert out.split() == ['(1,', '1000)', 'None']


def test_detection_entry_points_say_in_one_line_what_to_install(lite):
    checkpoint = lite.root / 'any.pth'
    checkpoint.write_bytes(b'not read: the config is refused first')
    for tool, extra in (('train.py', []), ('test.py', [checkpoint])):
        line = _one_line_error(
            lite.run(lite.python, ROOT / 'tools' / tool, DETECTOR, *extra,
                     check=False))
        assert MISSING_OPS.match(line), line
        assert DETECTOR.name in line
    calls = (f'get_model({DETECTOR_ENTRY!r})',
             f'get_model({str(DETECTOR)!r})',
             f'get_model({DETECTOR_ENTRY!r}, pretrained=True)',
             f"inference_model({DETECTOR_ENTRY!r}, 'any.jpg')")
    out = lite.run_python(
        'import mmregnet\n'
        'from mmregnet.engine import DetectionStackMissing\n'
        f'for call in {calls!r}:\n'
        '    try:\n'
        "        eval('mmregnet.' + call)\n"
        "        print('no error:', call)\n"
        '    except DetectionStackMissing as error:\n'
        "        print('error:', error)\n")
    lines = out.strip().splitlines()
    assert len(lines) == len(calls)
    for call, line in zip(calls, lines):
        assert MISSING_OPS.match(line), (call, line)


def test_setup_switches_mmcv_builds_leaving_exactly_one(lite):
    wheels = sorted((CACHE / 'wheels').glob('mmcv-2.1.0-*.whl'))
    assert wheels, f'no compiled mmcv wheel cached in {CACHE}/wheels: ' \
        'tools/setup_env.sh --det builds it before the tests run'
    said = lite.setup('--det', MMREGNET_CACHE=str(CACHE))
    assert 'installed the compiled mmcv 2.1.0 (from the cached wheel' in said
    assert lite.mmcv_builds() == ['mmcv']
    assert lite.run_python(
        'import mmcv.ops; print(mmcv.ops.nms.__module__)').strip() == \
        'mmcv.ops.nms'
    # --cls keeps a compiled mmcv: it serves classification too
    said = lite.setup('--cls', MMREGNET_CACHE=str(CACHE))
    assert 'compiled mmcv 2.1.0 present (kept' in said

    said = lite.setup('--cls', MMREGNET_CACHE=str(CACHE),
                      MMREGNET_MMCV='lite')
    assert 'installed mmcv-lite' in said
    assert lite.mmcv_builds() == ['mmcv-lite']
    assert lite.run(lite.python, '-c', 'import mmcv.ops',
                    check=False).returncode != 0
