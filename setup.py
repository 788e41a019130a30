"""mmregnet: the RegNet family as an OpenMMLab plugin."""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.develop import develop

HERE = osp.dirname(osp.abspath(__file__))
#: what OpenMMLab's ``mim`` and the model index read from ``mmregnet/.mim``
MIM_FILES = ('configs', 'tools', 'demo', 'model-index.yml', 'metafile.yml')


def _remove(path):
    if osp.islink(path) or osp.isfile(path):
        os.remove(path)
    elif osp.isdir(path):
        shutil.rmtree(path)


class BuildPyWithMim(build_py):
    """Copy configs, tools, demo and the model index into ``mmregnet/.mim``
    of the build (so wheels carry them; the source tree is left alone)."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        mim = osp.join(self.build_lib, 'mmregnet', '.mim')
        os.makedirs(mim, exist_ok=True)
        for name in MIM_FILES:
            src, dst = osp.join(HERE, name), osp.join(mim, name)
            _remove(dst)
            if osp.isdir(src):
                shutil.copytree(
                    src,
                    dst,
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            else:
                shutil.copyfile(src, dst)


class DevelopWithMim(develop):
    """Editable install (``pip install -e .``): ``mmregnet/.mim`` holds
    relative symlinks to the repository's files, which ``mim`` finds through
    the install's location (the repository)."""

    def run(self):
        mim = osp.join(HERE, 'mmregnet', '.mim')
        os.makedirs(mim, exist_ok=True)
        for name in MIM_FILES:
            dst = osp.join(mim, name)
            _remove(dst)
            os.symlink(osp.relpath(osp.join(HERE, name), mim), dst)
        super().run()


def read_version():
    namespace = {}
    with open(osp.join(HERE, 'mmregnet', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_requirements(name):
    """The requirements of ``requirements/<name>``, ``-r FILE`` included."""
    requirements = []
    with open(osp.join(HERE, 'requirements', name)) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line.startswith('-r '):
                requirements += read_requirements(line[3:].strip())
            elif line:
                requirements.append(line)
    return requirements


setup(
    name='mmregnet',
    version=read_version(),
    description='RegNetX / RegNetY (Designing Network Design Spaces) '
    'for OpenMMLab: mmpretrain and mmdet',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=('mmregnet', 'mmregnet.*')),
    cmdclass={
        'build_py': BuildPyWithMim,
        'develop': DevelopWithMim
    },
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'det': read_requirements('det.txt'),
        'hf': read_requirements('hf.txt'),
        'int8': read_requirements('int8.txt'),
        'tests': read_requirements('tests.txt'),
    },
    zip_safe=False)
