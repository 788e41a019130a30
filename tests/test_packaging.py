"""Distribution: the wheel holds the mmregnet package alone, with the model
index, configs, tools and demos in ``mmregnet/.mim``; the sdist carries what
a build and mim need; requirements state ranges, the set-up's constraints the
verified versions; installing the wheel leaves the stack as it is."""
import json
import re
import subprocess
import sys
import tarfile
import zipfile

import pytest
from packaging.requirements import Requirement

from mmregnet.version import __version__
from tests.distributions import ROOT, source_files

#: the host stack: install_requires and the `det` extra give ranges for them
STACK = ('torch', 'mmengine', 'mmcv', 'mmpretrain', 'mmdet')
MIM_DIRS = ('configs', 'tools', 'demo')


@pytest.fixture(scope='module')
def wheel_names(dists):
    with zipfile.ZipFile(dists.wheel) as wheel:
        return set(wheel.namelist())


def _wheel_metadata(dists, name):
    with zipfile.ZipFile(dists.wheel) as wheel:
        return wheel.read(f'mmregnet-{__version__}.dist-info/{name}').decode()


def _requirements(name):
    text = (ROOT / 'requirements' / name).read_text()
    return [
        Requirement(line.split('#')[0].strip())
        for line in text.splitlines() if line.split('#')[0].strip()
    ]


def _mim_sources():
    """What ``mmregnet/.mim`` must hold: the model index, every metafile it
    imports at the top level, and the configs, tools and demos."""
    return {
        name
        for name in source_files() if name.split('/')[0] in MIM_DIRS
    } | {'model-index.yml', 'metafile.yml'}


def test_wheel_installs_only_the_mmregnet_package_and_all_of_it(
        wheel_names):
    top_level = {name.split('/')[0] for name in wheel_names}
    assert top_level == {'mmregnet', f'mmregnet-{__version__}.dist-info'}
    modules = {
        name
        for name in source_files()
        if name.startswith('mmregnet/') and name.endswith('.py')
    }
    assert modules - wheel_names == set()


def test_wheel_mim_folder_holds_model_index_configs_tools_and_demos(
        wheel_names):
    mim = {
        name[len('mmregnet/.mim/'):]
        for name in wheel_names if name.startswith('mmregnet/.mim/')
    }
    assert mim == _mim_sources()
    assert not [name for name in wheel_names if '__pycache__' in name]


def test_wheel_model_index_resolves_inside_mim(wheel_names):
    """Every metafile the model index imports and every config a metafile
    names is in the wheel's .mim, so mim and get_model find them."""
    from modelindex.load_model_index import load
    index = load(str(ROOT / 'model-index.yml'))
    configs = {model.config for model in index.models}
    assert configs and all(
        f'mmregnet/.mim/{config}' in wheel_names for config in configs)
    for imported in re.findall(r'^\s*-\s*(\S+\.yml)\s*$',
                               (ROOT / 'model-index.yml').read_text(),
                               re.M):
        assert f'mmregnet/.mim/{imported}' in wheel_names


def test_sdist_carries_what_a_build_and_mim_need(dists):
    with tarfile.open(dists.sdist) as archive:
        names = {
            name.split('/', 1)[1]
            for name in archive.getnames() if '/' in name
        }
    needed = {
        name
        for name in source_files()
        if name.split('/')[0] in (*MIM_DIRS, 'mmregnet', 'requirements')
    } | {
        'setup.py', 'setup.cfg', 'MANIFEST.in', 'README.md', 'LICENSE',
        'model-index.yml', 'metafile.yml'
    }
    assert needed - names == set()
    assert not [
        name for name in names if name.startswith('mmregnet/.mim')
        or name.endswith(('.whl', '.pyc', '.pth'))
    ]


def test_install_requires_are_ranges_and_constraints_the_verified_versions(
        dists):
    required = [
        Requirement(line.split(':', 1)[1].strip())
        for line in _wheel_metadata(dists, 'METADATA').splitlines()
        if line.startswith('Requires-Dist:')
    ]
    declared = _requirements('runtime.txt') + _requirements('det.txt')

    def specs(requirements):
        return {(r.name, str(r.specifier)) for r in requirements}

    assert specs(declared) <= specs(required)
    stack = {r.name: r for r in declared if r.name in STACK}
    assert set(stack) == set(STACK)
    for requirement in required:
        operators = {spec.operator for spec in requirement.specifier}
        assert not operators & {'==', '==='}, requirement
    for name, requirement in stack.items():
        assert {'>=', '~='} & {s.operator for s in requirement.specifier}, \
            f'{requirement}: no lower bound'
    pins = {}
    for requirement in _requirements('constraints.txt'):
        spec, = requirement.specifier
        assert spec.operator == '==', requirement
        pins[requirement.name] = spec.version
    for name, requirement in stack.items():
        assert requirement.specifier.contains(pins[name]), \
            f'verified {name}=={pins[name]} is outside {requirement}'


def test_classification_takes_either_mmcv_build_and_det_the_compiled(dists):
    # mmcv-lite and the compiled mmcv are two distributions of one package:
    # install_requires must name neither (pip would build mmcv next to a
    # user's mmcv-lite), the det extra the compiled one
    required = [
        Requirement(line.split(':', 1)[1].strip())
        for line in _wheel_metadata(dists, 'METADATA').splitlines()
        if line.startswith('Requires-Dist:')
    ]
    plain = {r.name for r in required if r.marker is None}
    det = {r.name for r in required
           if r.marker is not None and r.marker.evaluate({'extra': 'det'})}
    assert not {'mmcv', 'mmcv-lite'} & plain
    assert {'mmcv', 'mmdet'} <= det


@pytest.mark.parametrize('extra', ['', '[det]'])
def test_dry_run_install_of_the_wheel_changes_none_of_the_stack(
        dists, extra, tmp_path):
    report = tmp_path / 'report.json'
    result = subprocess.run([
        sys.executable, '-m', 'pip', 'install', '--dry-run', '--no-index',
        '--disable-pip-version-check', '--report',
        str(report), f'{dists.wheel}{extra}'
    ],
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    would_install = {
        item['metadata']['name']
        for item in json.loads(report.read_text())['install']
    }
    assert would_install <= {'mmregnet'}


def test_readme_states_the_verified_versions_of_the_constraints():
    readme = (ROOT / 'README.md').read_text()
    for requirement in _requirements('constraints.txt'):
        if requirement.name in STACK:
            version = next(iter(requirement.specifier)).version
            pattern = rf'{requirement.name}\b[^\n]*{re.escape(version)}'
            assert re.search(pattern, readme), requirement
