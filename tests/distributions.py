"""Build mmregnet's sdist, and its wheel from that sdist, out of a copy of
the source tree (the checkout itself is left alone)."""
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import List, NamedTuple

ROOT = Path(__file__).resolve().parents[1]


class Distributions(NamedTuple):
    sdist: Path
    wheel: Path


def source_files() -> List[str]:
    """The repository's files: tracked and untracked, not ignored."""
    listed = subprocess.run(
        ['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True).stdout.splitlines()
    return sorted(name for name in set(listed) if (ROOT / name).is_file())


def _run(args, cwd):
    result = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, \
        f'{" ".join(map(str, args))} failed:\n{result.stderr[-3000:]}'


def build_distributions(work_dir: Path) -> Distributions:
    source, dist = work_dir / 'source', work_dir / 'dist'
    for name in source_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    _run([sys.executable, 'setup.py', '-q', 'sdist', '-d', str(dist)], source)
    sdist, = dist.glob('mmregnet-*.tar.gz')
    with tarfile.open(sdist) as archive:
        archive.extractall(work_dir / 'unpacked', filter='data')
    unpacked, = (work_dir / 'unpacked').iterdir()
    _run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '--disable-pip-version-check', '-w',
        str(dist),
        str(unpacked)
    ], work_dir)
    wheel, = dist.glob('mmregnet-*.whl')
    return Distributions(sdist, wheel)
