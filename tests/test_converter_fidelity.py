"""Fidelity: a publisher's RegNet with random weights, saved in its format
and converted by the command line's code, gives the same logits and stage
outputs in the classifier of the converted weights' config (to 1e-4,
fp32)."""
from functools import partial

import pytest
import torch
import torch.nn as nn

from mmregnet.apis import get_model
from mmregnet.converters import convert_state_dict
from tests.helpers import load_config
from tests.peers import one_thread  # noqa: F401 (fixture)
from tests.peers import (PEERS, SEER_SIZES, TIMM, TORCHVISION,
                         converted_config, converted_peer, random_model)

TOLERANCE = 1e-4
INPUT_SIZE = 32  # stage outputs of 16, 8, 4, 2 and 1 pixels


def our_stages(model: nn.Module):
    backbone = model.backbone
    return [getattr(backbone, name) for name in backbone.res_layers]


def converted_model(config: str, state_dict: dict) -> nn.Module:
    """The config's classifier, built by mmpretrain on the meta device (no
    initialisation) and filled strictly with the converted state dict."""
    with torch.device('meta'):
        model = get_model(load_config(config))
    model.load_state_dict(state_dict, strict=True, assign=True)
    return model.eval()


def predict(forward, stages, x):
    """The logits ``forward(x)`` and the outputs of ``stages`` on the way."""
    outputs = []
    hooks = [
        stage.register_forward_hook(
            lambda module, inputs, output: outputs.append(output))
        for stage in stages
    ]
    with torch.no_grad():
        logits = forward(x)
    for hook in hooks:
        hook.remove()
    return logits, outputs


def assert_same_predictions(peer, peer_stages, ours, x) -> None:
    """Logits and the output of every stage of ``ours`` equal the peer's to
    ``TOLERANCE``."""
    expected, expected_stages = predict(peer, peer_stages(peer), x)
    logits, stages = predict(partial(ours, mode='tensor'), our_stages(ours), x)
    assert len(stages) == len(expected_stages) == 4
    torch.testing.assert_close(logits, expected, rtol=0, atol=TOLERANCE)
    for index, (stage, expected_stage) in enumerate(
            zip(stages, expected_stages)):
        torch.testing.assert_close(stage, expected_stage, rtol=0,
                                   atol=TOLERANCE, msg=f'stage {index + 1}')


def random_input(size: int = INPUT_SIZE) -> torch.Tensor:
    return torch.randn(
        1, 3, size, size, generator=torch.Generator().manual_seed(0))


# converted in memory: no files of 0.2-0.6 GB
BIG = {'regnet_x_16gf', 'regnet_x_32gf', 'regnet_y_16gf', 'regnet_y_32gf',
       'regnetx_160', 'regnetx_320', 'regnety_160', 'regnety_320'}


def check_fidelity(publisher, peer_name, config, tmp_path) -> None:
    build, _, stages, _ = PEERS[publisher]
    peer = random_model(build, peer_name)
    if peer_name in BIG:
        state = convert_state_dict(peer.state_dict(), publisher).state_dict
    else:
        state = converted_peer(peer, publisher, tmp_path)
    assert_same_predictions(peer, stages, converted_model(config, state),
                            random_input())


def fidelity_cases(names):
    return [
        pytest.param(name, marks=pytest.mark.slow) if name in BIG else name
        for name in names if name not in SEER_SIZES
    ]


@pytest.mark.parametrize('name', fidelity_cases(TORCHVISION))
def test_torchvision_checkpoint_converts_to_identical_predictions(
        name, tmp_path):
    arch, _ = TORCHVISION[name]
    check_fidelity('torchvision', name, converted_config(arch, 'tv-v1'),
                   tmp_path)


@pytest.mark.parametrize('name', fidelity_cases(TIMM))
def test_timm_checkpoint_converts_to_identical_predictions(name, tmp_path):
    arch, rounding = TIMM[name]
    weights = 'tv-v1' if rounding == 'torchvision' else 'timm-pycls'
    check_fidelity('timm', name, converted_config(arch, weights), tmp_path)


@pytest.mark.parametrize('name', ['regnetx_002', 'regnety_002', 'regnetx_040',
                                  'regnety_008'])
def test_pycls_checkpoint_converts_to_identical_predictions(name, tmp_path):
    arch, _ = TIMM[name]
    check_fidelity('pycls', name, converted_config(arch, 'pycls'), tmp_path)
