"""The newest transformers (5.x), where most Hugging Face users are: an
exported folder loads in it with the same logits and labels, and beside it
mmregnet's model-zoo API, which mmpretrain 1.2.0 can no longer serve there,
fails with one line naming both versions and the fix.

transformers goes into a scratch folder (with its dependencies, not
pinned: the newest), the transformers side runs without mmpretrain. Slow
and opt-in (``MMREGNET_TEST_TRANSFORMERS5=1``): installing it took 92 s
here (cores shared); the folder is cached in ~/.cache/mmregnet."""
import os
import subprocess
import sys

import pytest
import torch

from tests.transformers_env import (CACHE, ROOT, exported_random_model,
                                    install, run_transformers)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get('MMREGNET_TEST_TRANSFORMERS5'),
        reason='installs transformers 5.x (92 s); set '
        'MMREGNET_TEST_TRANSFORMERS5=1')
]


@pytest.fixture(scope='module')
def transformers5():
    folder = install(['transformers>=5'],
                     CACHE / 'mmregnet' / 'transformers-newest')
    dist_info = next(folder.glob('transformers-*.dist-info')).name
    version = dist_info[len('transformers-'):-len('.dist-info')]
    assert version.startswith('5.')
    return folder, version


def test_exported_folder_loads_in_transformers_5(transformers5, tmp_path):
    folder, expected = exported_random_model(tmp_path)
    (result, ) = run_transformers(
        [dict(action='load', dir=str(folder), pipeline=True)],
        transformers5[0], tmp_path)
    torch.testing.assert_close(result['logits'], expected, rtol=0, atol=1e-5)
    assert sorted(result['labels']) == [f'LABEL_{i}' for i in range(5)]


def test_model_zoo_api_beside_transformers_5_is_one_line(transformers5):
    folder, version = transformers5
    result = subprocess.run(
        [sys.executable, '-c', 'import mmregnet.apis'],
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(folder), str(ROOT)])),
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('ImportError: mmpretrain 1.2.0 cannot be imported '
                           f'beside transformers {version} (')
    assert 'pip install "transformers>=4.28,<4.53"' in last
