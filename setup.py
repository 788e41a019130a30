"""mmregnet: the RegNet family as an OpenMMLab plugin."""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', 'demo', 'model-index.yml', 'metafile.yml')


def add_mim_extension():
    """Copy configs, tools, demo and the model index into mmregnet/.mim for
    built packages, so the model index works outside the repository (and
    OpenMMLab's ``mim`` finds them). Editable installs read the repository."""
    if not any(cmd in sys.argv for cmd in ('bdist_wheel', 'sdist', 'install',
                                           'build')):
        return
    mim = osp.join(HERE, 'mmregnet', '.mim')
    shutil.rmtree(mim, ignore_errors=True)
    os.makedirs(mim)
    for name in MIM_FILES:
        src, dst = osp.join(HERE, name), osp.join(mim, name)
        if osp.isdir(src):
            shutil.copytree(
                src, dst, ignore=shutil.ignore_patterns('__pycache__'))
        else:
            shutil.copyfile(src, dst)


def read_version():
    namespace = {}
    with open(osp.join(HERE, 'mmregnet', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_requirements(name):
    with open(osp.join(HERE, 'requirements', name)) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith('#')
        ]


add_mim_extension()
setup(
    name='mmregnet',
    version=read_version(),
    description='RegNetX / RegNetY (Designing Network Design Spaces) '
    'for OpenMMLab: mmpretrain and mmdet',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    package_data={'mmregnet': ['.mim/**/*']},
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'mim': read_requirements('mminstall.txt'),
        'tests': read_requirements('tests.txt'),
    },
    zip_safe=False)
