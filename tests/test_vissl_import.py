"""vissl / classy-vision checkpoints, the SEER originals
(tools/model_converters/vissl2mmregnet.py): a timm RegNet's random weights
written in vissl's layout (``classy_state_dict.base_model.model.trunk`` and
``heads``, the layout timm's ``_filter_fn`` reads back) convert to a model
whose features and logits equal timm's (fp32, 1e-5). A trunk without a
classification head (a self-supervised one, with SwAV's training heads
left out) becomes a backbone-only checkpoint that a detector's
``init_cfg`` and ``get_model`` fill the backbone from."""

import pytest
import torch
from mmengine.config import Config
from timm.models.regnet import _filter_fn

from mmregnet.apis import get_model
from mmregnet.converters import main
from tests.helpers import mmengine_log
from tests.peers import one_thread  # noqa: F401 (fixture)
from tests.peers import (ROOT, SWAV_HEADS, converted_config, random_model,
                         timm_model, vissl_checkpoint)

TOLERANCE = 1e-5


def test_generated_checkpoint_has_the_layout_timm_documents():
    peer = timm_model('regnety_004')
    state = peer.state_dict()
    assert _filter_fn(vissl_checkpoint(state, head=True)).keys() == \
        state.keys()


def test_vissl_classifier_converts_to_identical_predictions(tmp_path):
    peer = random_model(timm_model, 'regnety_004')
    torch.save(vissl_checkpoint(peer.state_dict(), head=True),
               tmp_path / 'seer.torch')
    assert main('vissl', [str(tmp_path / 'seer.torch'),
                          str(tmp_path / 'ours.pth')]) == 0
    model = get_model(
        converted_config('regnety_400mf', 'timm-pycls'),
        pretrained=str(tmp_path / 'ours.pth')).eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model.backbone(x)[-1],
                                   peer.forward_features(x), rtol=0,
                                   atol=TOLERANCE)
        torch.testing.assert_close(model(x, mode='tensor'), peer(x), rtol=0,
                                   atol=TOLERANCE)


@pytest.fixture
def trunk(tmp_path, capsys):
    """A self-supervised vissl trunk converted: (timm peer, checkpoint)."""
    peer = random_model(timm_model, 'regnety_004')
    torch.save(vissl_checkpoint(peer.state_dict(), head=False),
               tmp_path / 'seer.torch')
    dst = tmp_path / 'trunk.pth'
    assert main('vissl', [str(tmp_path / 'seer.torch'), str(dst)]) == 0
    out = capsys.readouterr().out
    assert 'left out 2 keys of the self-supervised training heads' in out
    assert 'backbone only' in out
    return peer, dst


def assert_backbone_is_peers(backbone, peer):
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(backbone.eval()(x)[-1],
                                   peer.forward_features(x), rtol=0,
                                   atol=TOLERANCE)


def test_headless_trunk_is_a_backbone_only_checkpoint(trunk):
    _, dst = trunk
    checkpoint = torch.load(dst, weights_only=True)
    assert checkpoint['meta']['backbone_only'] is True
    assert checkpoint['meta']['num_classes'] == 0
    assert checkpoint['meta']['left_out'] == sorted(
        f'heads.{key}' for key in SWAV_HEADS)
    assert all(key.startswith('backbone.') for key in checkpoint['state_dict'])


def test_detector_init_cfg_finds_the_trunks_weights(trunk):
    peer, dst = trunk
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(str(
        ROOT / 'configs/mmdet/faster-rcnn_regnety-400mf_fpn_ms-3x_coco.py'))
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', prefix='backbone.', checkpoint=str(dst))
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    assert_backbone_is_peers(detector.backbone, peer)


def test_get_model_keeps_a_fresh_head_and_says_so(trunk, caplog):
    peer, dst = trunk
    with mmengine_log(caplog):
        model = get_model(
            converted_config('regnety_400mf', 'timm-pycls'),
            pretrained=str(dst))
    assert_backbone_is_peers(model.backbone, peer)
    (line, ) = [r.getMessage() for r in caplog.records
                if 'backbone only' in r.getMessage()]
    assert line == (f'{dst} holds a backbone only: the head of '
                    f"{converted_config('regnety_400mf', 'timm-pycls')} "
                    'stays freshly initialised')


def test_classifier_checkpoint_without_its_head_is_still_refused(
        tmp_path):
    peer = timm_model('regnety_004')
    state = {k: v for k, v in peer.state_dict().items()
             if k != 'head.fc.bias'}
    torch.save(vissl_checkpoint(state, head=True), tmp_path / 'seer.torch')
    assert main('vissl', [str(tmp_path / 'seer.torch'),
                          str(tmp_path / 'ours.pth')]) == 1
    assert not (tmp_path / 'ours.pth').exists()
