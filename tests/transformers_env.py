"""transformers for the tests, outside the project's environment.

mmregnet never imports transformers, and the project's environment does not
have it: with transformers installed, ``import mmpretrain.models`` also
imports mmpretrain's multimodal models (transformers >= 4.28 and
pycocotools), which slows every test interpreter that builds a model (see
docs/weight_conversion.md). The tests install the pinned transformers
(requirements/transformers.txt) into a scratch folder, once, and run the
transformers side (tests/hf_side.py) in a subprocess with that folder first
on its path.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Sequence

import torch
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
HF_SIDE = Path(__file__).with_name('hf_side.py')
REQUIREMENTS = ROOT / 'requirements/transformers.txt'
CACHE = Path(os.environ.get('XDG_CACHE_HOME', Path.home() / '.cache'))
#: the exported random model's arch (tiny: three stages)
STAND_IN_ARCH = dict(
    depths=[1, 1, 1], widths=[16, 32, 48], group_widths=8, se_ratio=0.25)


def install(requirements: Sequence[str], folder: Path, *options) -> Path:
    """``pip install --target folder`` (once: an installed folder is kept,
    written atomically; parallel test processes wait for the one that
    installs)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder.parent / f'.{folder.name}.lock')):
        if not folder.is_dir():
            _install_into(folder, requirements, options)
    return folder


def _install_into(folder: Path, requirements: Sequence[str], options):
    tmp = tempfile.mkdtemp(dir=folder.parent, prefix=f'.{folder.name}.')
    try:
        subprocess.run([
            sys.executable, '-m', 'pip', 'install', '-q',
            '--disable-pip-version-check', '--target', tmp, *options,
            *requirements
        ],
                       check=True,
                       capture_output=True,
                       timeout=600)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pinned_transformers() -> Path:
    """A folder with the pinned transformers of
    requirements/transformers.txt (cached across sessions, keyed by the
    file's content)."""
    key = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    return install(['-r', str(REQUIREMENTS)],
                   CACHE / 'mmregnet' / f'transformers-{key}', '--no-deps')


def run_transformers(jobs: List[dict], folder: Path, tmp_path: Path,
                     extra_env=None) -> list:
    """Run tests/hf_side.py on ``jobs`` with ``folder``'s transformers;
    returns one result per job."""
    jobs_file, out = tmp_path / 'hf_jobs.json', tmp_path / 'hf_results.pt'
    jobs_file.write_text(json.dumps(jobs))
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(folder), str(ROOT)]),
        HF_HUB_OFFLINE='1',
        TRANSFORMERS_VERBOSITY='error',
        OMP_NUM_THREADS='1',
        **(extra_env or {}))
    result = subprocess.run(
        [sys.executable, str(HF_SIDE), str(jobs_file),
         str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return torch.load(out, weights_only=True)


def exported_random_model(tmp_path: Path, head: bool = True):
    """A random mmregnet RegNetY of 5 classes exported by mmregnet2hf's code
    to ``tmp_path / 'repo'`` (tests/test_hf_export.py checks such exports
    against transformers), its state dict kept as ``tmp_path / 'ours.pth'``;
    returns the folder and its logits on :func:`tests.hf_side.fixed_input`.
    Without ``head``: its backbone alone (a ``RegNetModel``) and the last
    stage's features."""
    from mmengine.config import Config

    from mmregnet.apis import get_model
    from mmregnet.converters.hf import export_hf
    from tests.helpers import randomise_norms
    from tests.hf_side import fixed_input
    config = Config.fromstring(
        f"""
_base_ = '{ROOT}/configs/converted/_base_/rgb_in1k.py'
model = dict(
    backbone=dict(arch=dict(_delete_=True, **{STAND_IN_ARCH})),
    head=dict(num_classes=5, in_channels=48, topk=(1, )))
""", '.py')
    torch.manual_seed(0)
    model = randomise_norms(get_model(config)).eval()
    state_dict = {
        key: value
        for key, value in model.state_dict().items()
        if head or key.startswith('backbone.')
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=state_dict), tmp_path / 'ours.pth')
    export_hf(config, tmp_path / 'ours.pth', tmp_path / 'repo')
    with torch.no_grad():
        outputs = model(fixed_input(), mode='tensor') if head else \
            model.backbone(fixed_input())[-1]
        return tmp_path / 'repo', outputs
