"""OpenMMLab's mim with mmregnet installed as a user would: the built wheel,
then an editable install (what tools/setup_env.sh makes), each in a scratch
environment that reuses this environment's stack and adds openmim; list,
search, run, train, test and download on the quick-start config."""
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from mmengine.config import Config

from mmregnet.version import __version__
from tests.distributions import ROOT

pytestmark = pytest.mark.slow

QUICKSTART = 'regnet-tiny_1xb64_digits.py'
#: data loaded in the main process
NO_WORKERS = [f'{split}_dataloader.num_workers=0'
              for split in ('train', 'val', 'test')]
#: a short run of the quick start: one epoch of one batch, validated on one
SHORT_RUN = [
    '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
    *NO_WORKERS,
    *(f'{split}_dataloader.dataset.indices=64' for split in ('train', 'val'))
]


class Scratch(NamedTuple):
    root: Path
    env: dict  # PATH leads to the scratch environment's python and mim

    def run(self, *args, cwd=None, check=True, timeout=600):
        result = subprocess.run([str(a) for a in args],
                                cwd=cwd or self.root,
                                env=self.env,
                                capture_output=True,
                                text=True,
                                timeout=timeout)
        if check:
            assert result.returncode == 0, \
                f'{args}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}'
        return result

    def pip(self, *args):
        return self.run('python', '-m', 'pip', 'install', '-q',
                        '--disable-pip-version-check', *args)


def _pin(name):
    constraints = (ROOT / 'requirements' / 'constraints.txt').read_text()
    for line in constraints.splitlines():
        if line.startswith(f'{name}=='):
            return line.split('#')[0].strip()
    raise LookupError(f'no pin for {name} in requirements/constraints.txt')


@pytest.fixture(scope='module')
def scratch(tmp_path_factory):
    """A virtual environment that sees this environment's site-packages
    through a path entry (so this environment's own editable mmregnet is
    not active there), plus openmim and what its model commands import."""
    root = tmp_path_factory.mktemp('mim')
    subprocess.run(
        [sys.executable, '-m', 'venv', '--without-pip', root / 'venv'],
        check=True)
    python = root / 'venv' / 'bin' / 'python'
    site = subprocess.run(
        [python, '-c', 'import sysconfig; print(sysconfig.get_path("purelib"))'
         ],
        capture_output=True,
        text=True,
        check=True).stdout.strip()
    stack = {sysconfig.get_path('purelib'), sysconfig.get_path('platlib')}
    Path(site, 'project_stack.pth').write_text('\n'.join(sorted(stack)) + '\n')
    env = dict(os.environ, PYTHONNOUSERSITE='1')
    env['PATH'] = f'{python.parent}{os.pathsep}{env["PATH"]}'
    env.pop('PYTHONPATH', None)
    scratch = Scratch(root, env)
    scratch.pip('--no-deps', _pin('openmim'))
    scratch.pip('-r', ROOT / 'requirements' / 'mim.txt', '-c',
                ROOT / 'requirements' / 'constraints.txt')
    return scratch


@pytest.fixture(scope='module', params=['wheel', 'editable'])
def installed(request, scratch):
    """mmregnet installed into the scratch environment; returns the
    folder of its package."""
    if request.param == 'wheel':
        wheel = request.getfixturevalue('dists').wheel
        scratch.pip('--no-deps', '--force-reinstall', wheel)
    else:
        scratch.run('python', '-m', 'pip', 'uninstall', '-y', '-q',
                    'mmregnet')
        scratch.pip('--no-deps', '--no-build-isolation', '-e', ROOT)
    imported = scratch.run('python', '-c',
                           'import mmregnet; print(mmregnet.__file__)')
    package = Path(imported.stdout.strip()).parent
    if request.param == 'editable':
        assert package == ROOT / 'mmregnet'
    else:
        assert ROOT not in package.parents
    return package


def test_mim_lists_and_searches_the_model_index(scratch, installed):
    listed = scratch.run('mim', 'list').stdout
    assert any(line.split()[:2] == ['mmregnet', __version__]
               for line in listed.splitlines() if line.strip())
    found = scratch.run('mim', 'search', 'mmregnet').stdout
    for name in ('regnetx-400mf_8xb128_in1k', 'regnety-1.6gf_8xb128_in1k',
                 'mask-rcnn_regnetx-4.0gf_fpn_1x_coco'):
        assert name in found
    one = scratch.run('mim', 'search', 'mmregnet', '--config',
                      'regnetx-400mf_8xb128_in1k').stdout
    assert 'regnetx-400mf_8xb128_in1k' in one
    assert 'regnety-1.6gf_8xb128_in1k' not in one


def test_mim_run_train_and_test_the_quick_start(scratch, installed,
                                                digits_quickstart, tmp_path):
    scratch.run('mim', 'run', 'mmregnet', 'prepare_digits', 'data/digits',
                cwd=tmp_path)
    digits = tmp_path / 'data' / 'digits'
    assert (digits / 'train').is_dir() and (digits / 'val').is_dir()
    scratch.run('mim', 'train', 'mmregnet', QUICKSTART, '--work-dir', 'work',
                *SHORT_RUN, cwd=tmp_path)
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()
    # the trained quick start on these digits: what tools/test.py gave
    tested = scratch.run('mim', 'test', 'mmregnet', QUICKSTART,
                         '--checkpoint', digits_quickstart.checkpoint,
                         '--work-dir', 'work/test', '--cfg-options',
                         *NO_WORKERS, cwd=tmp_path)
    top1 = re.search(r'accuracy/top1: ([0-9.]+)',
                     tested.stdout + tested.stderr)
    assert top1, tested.stdout[-2000:]
    assert float(top1[1]) == pytest.approx(
        digits_quickstart.test_metrics['accuracy/top1'], abs=1e-3)
    config = installed / '.mim' / 'configs' / 'quickstart' / QUICKSTART
    flops = scratch.run('mim', 'run', 'mmregnet', 'get_flops', config,
                        '--shape', '32', '32', cwd=tmp_path)
    assert 'flops' in (flops.stdout + flops.stderr).lower()


def _entries_by_weights():
    """The first entry with hosted weights of each metafile (name, URL), and
    an entry without hosted weights (None if every entry has some)."""
    hosted, unhosted = [], None
    index = yaml.safe_load((ROOT / 'model-index.yml').read_text())
    for metafile in index['Import']:
        models = yaml.safe_load((ROOT / metafile).read_text())['Models']
        hosted += [(m['Name'], m['Weights']) for m in models
                   if m.get('Weights')][:1]
        unhosted = unhosted or next(
            (m['Name'] for m in models if not m.get('Weights')), None)
    return hosted, unhosted


def test_mim_download(scratch, installed, tmp_path):
    """An entry with hosted weights: mim fetches the file named by its
    Weights URL (placed in --dest beforehand: nothing can be downloaded
    here) and dumps the entry's config, which loads; one entry of each
    metafile that has some (classification, detection: the converted
    entries have none). An entry without hosted weights has nothing to
    fetch: mim fails and writes nothing."""
    hosted, unhosted = _entries_by_weights()
    assert hosted
    for name, url in hosted:
        (tmp_path / url.rsplit('/', 1)[-1]).write_bytes(b'checkpoint')
        scratch.run('mim', 'download', 'mmregnet', '--config', name,
                    '--dest', tmp_path)
        config = Config.fromfile(str(tmp_path / f'{name}.py'))
        assert config.model.backbone.type == 'mmregnet.RegNet'
    if unhosted is not None:
        dest = tmp_path / 'unhosted'
        result = scratch.run('mim', 'download', 'mmregnet', '--config',
                             unhosted, '--dest', dest, check=False)
        assert result.returncode != 0
        assert not dest.exists() or not any(dest.iterdir())
