"""``mmregnet://<name>`` checkpoints in configs: every name a config gives
is an index entry with weights, every RegNetY detection config starts from
indexed weights, and mmdet detectors built from them find the served weights
in their backbone after ``init_weights()``."""
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmregnet.weights import MIRROR_ENV, SCHEME, weights_of
from tests.helpers import load_config
from tests.mirror import Mirror
from tests.peers import one_thread  # noqa: F401 (fixture)
from tests.peers import INDEX, pycls_checkpoint, random_model, timm_model

ROOT = Path(__file__).resolve().parents[1]
REGNETY_DETECTORS = sorted((ROOT / 'configs/mmdet').glob('*regnety-*.py'))
Y800 = 'regnety-800mf_3rdparty-pycls_in1k'


def test_every_mmregnet_location_in_a_config_is_an_entry_with_weights():
    named = {
        name
        for path in (ROOT / 'configs').rglob('*.py')
        for name in re.findall(rf"'{SCHEME}([^']+)'", path.read_text())
    }
    # the pycls weights of the RegNetY detectors' 8 sizes, and vissl's
    # trunk of configs/seer
    assert len(named) == 8 + 1
    assert 'regnety-32gf_3rdparty-seer_ig1b' in named
    for name in named:
        assert weights_of(name).name == name


def test_every_regnety_detector_starts_from_indexed_pycls_weights():
    assert len(REGNETY_DETECTORS) == 25
    for path in REGNETY_DETECTORS:
        backbone = load_config(path).model.backbone
        size = backbone.arch.split('_')[1]
        assert backbone.init_cfg == dict(
            type='Pretrained',
            checkpoint=f'{SCHEME}regnety-{size}_3rdparty-pycls_in1k',
            prefix='backbone.'), path.name
        weights = weights_of(backbone.init_cfg.checkpoint[len(SCHEME):])
        assert weights.source == 'pycls'


@pytest.fixture(scope='module')
def served_y800(tmp_path_factory):
    """pycls's RegNetY-800MF (random weights, made from timm's) on a mirror
    under its published URL; returns the mirror and the pycls model."""
    mirror = Mirror(tmp_path_factory.mktemp('mirror'))
    peer = random_model(timm_model, 'regnety_008')
    url = INDEX[Y800].data['Converted From']['Weights']
    torch.save(pycls_checkpoint(peer.state_dict()), mirror.place(url))
    return mirror, peer


@pytest.mark.parametrize('config', [
    'retinanet_regnety-800mf_fpn_1x_coco.py',
    'mask-rcnn_regnety-800mf_fpn_ms-poly-3x_coco.py',
])
def test_detector_backbone_initialises_from_mmregnet_name(
        config, served_y800, tmp_path, monkeypatch):
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    mirror, peer = served_y800
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    cfg = Config.fromfile(str(ROOT / 'configs/mmdet' / config))
    assert cfg.model.backbone.init_cfg.checkpoint == SCHEME + Y800
    # no global default scope left behind for the tests that follow
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmdet'):
        detector = MODELS.build(cfg.model)
    with mirror.serve() as root:
        monkeypatch.setenv(MIRROR_ENV, root)
        detector.init_weights()
    backbone = detector.backbone
    assert torch.equal(backbone.conv1.weight, peer.stem.conv.weight)
    assert torch.equal(backbone.layer3[0].se.conv1.weight,
                       peer.s3.b1.se.fc1.weight)
    last = list(peer.s4.children())[-1]
    assert torch.equal(backbone.layer4[-1].bn3.running_var,
                       last.conv3.bn.running_var)
