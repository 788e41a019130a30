"""Weight conversion from pycls, torchvision and timm (mmregnet.converters,
tools/model_converters/*2mmregnet.py) and the model index of the converted
weights.

Peers are built with random weights (nothing is downloaded), saved in their
own format and converted; mmregnet classifiers built from the configs of the
converted weights then give the peers' logits and stage outputs to 1e-4
(fp32). pycls cannot be installed: its checkpoints are made from timm models
with pycls's key scheme (pycls/models/anynet.py: ``s{i}.b{j}.proj / .bn``,
``.f.a / .f.a_bn / .f.b / .f.b_bn / .f.se.f_ex.0 / .f.se.f_ex.2 / .f.c /
.f.c_bn``, ``stem.conv / stem.bn``, ``head.fc``).
"""
import argparse
import math
import re
import subprocess
import sys
from functools import partial
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
import pytest
import timm
import torch
import torch.nn as nn
import torchvision.models as tvm
from mmengine.config import Config
from mmengine.dataset import Compose
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmpretrain.registry import TRANSFORMS
from PIL import Image
from safetensors.torch import save_file
from torchvision.models import regnet as tv_regnet

from mmregnet.apis import get_model, load_model_index
from mmregnet.converters import (ARCHS, SOURCES, ConversionError,
                                 convert_file, convert_state_dict, main,
                                 model_shapes)
from mmregnet.converters.mapping import arch_signature
from mmregnet.design import EXTRA_ARCH_SETTINGS
from tests.helpers import load_config

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-4
INPUT_SIZE = 32  # stage outputs of 16, 8, 4, 2 and 1 pixels

# torchvision model -> (our arch, width rounding the converter infers)
TORCHVISION = {
    'regnet_x_400mf': ('regnetx_400mf', 'torchvision'),
    'regnet_x_800mf': ('regnetx_800mf', 'pycls'),
    'regnet_x_1_6gf': ('regnetx_1.6gf', 'pycls'),
    'regnet_x_3_2gf': ('regnetx_3.2gf', 'pycls'),
    'regnet_x_8gf': ('regnetx_8.0gf', 'pycls'),
    'regnet_x_16gf': ('regnetx_16gf', 'pycls'),
    'regnet_x_32gf': ('regnetx_32gf', 'pycls'),
    'regnet_y_400mf': ('regnety_400mf', 'pycls'),
    'regnet_y_800mf': ('regnety_800mf', 'torchvision'),
    'regnet_y_1_6gf': ('regnety_1.6gf', 'pycls'),
    'regnet_y_3_2gf': ('regnety_3.2gf', 'pycls'),
    'regnet_y_8gf': ('regnety_8.0gf', 'torchvision'),
    'regnet_y_16gf': ('regnety_16gf', 'pycls'),
    'regnet_y_32gf': ('regnety_32gf', 'pycls'),
    'regnet_y_128gf': ('regnety_128gf', 'pycls'),  # 645 M parameters
}
# timm's RegNet definitions (timm.models.regnet.model_cfgs) that are pure
# RegNetX / RegNetY; ``_tv``: torchvision's rounding (group_min_ratio=0.9)
TIMM = {
    'regnetx_002': ('regnetx_200mf', 'pycls'),
    'regnetx_004': ('regnetx_400mf', 'pycls'),
    'regnetx_004_tv': ('regnetx_400mf', 'torchvision'),
    'regnetx_006': ('regnetx_600mf', 'pycls'),
    'regnetx_008': ('regnetx_800mf', 'pycls'),
    'regnetx_016': ('regnetx_1.6gf', 'pycls'),
    'regnetx_032': ('regnetx_3.2gf', 'pycls'),
    'regnetx_040': ('regnetx_4.0gf', 'pycls'),
    'regnetx_064': ('regnetx_6.4gf', 'pycls'),
    'regnetx_080': ('regnetx_8.0gf', 'pycls'),
    'regnetx_120': ('regnetx_12gf', 'pycls'),
    'regnetx_160': ('regnetx_16gf', 'pycls'),
    'regnetx_320': ('regnetx_32gf', 'pycls'),
    'regnety_002': ('regnety_200mf', 'pycls'),
    'regnety_004': ('regnety_400mf', 'pycls'),
    'regnety_006': ('regnety_600mf', 'pycls'),
    'regnety_008': ('regnety_800mf', 'pycls'),
    'regnety_008_tv': ('regnety_800mf', 'torchvision'),
    'regnety_016': ('regnety_1.6gf', 'pycls'),
    'regnety_032': ('regnety_3.2gf', 'pycls'),
    'regnety_040': ('regnety_4.0gf', 'pycls'),
    'regnety_064': ('regnety_6.4gf', 'pycls'),
    'regnety_080': ('regnety_8.0gf', 'pycls'),
    'regnety_080_tv': ('regnety_8.0gf', 'torchvision'),
    'regnety_120': ('regnety_12gf', 'pycls'),
    'regnety_160': ('regnety_16gf', 'pycls'),
    'regnety_320': ('regnety_32gf', 'pycls'),
    'regnety_1280': ('regnety_128gf', 'pycls'),  # torchvision's 128GF
}
# ... and those that are not, with the reason
TIMM_SKIPPED = {
    'regnety_040_sgn': 'GroupNorm and SiLU',
    'regnetv_040': 'pre-activation blocks and SiLU',
    'regnetv_064': 'pre-activation blocks, SiLU, average-pool shortcut',
    'regnetz_005': 'RegNetZ: bottleneck ratio 4, no projection shortcut, '
    'linear block output, SiLU, a final 1x1 conv',
    'regnetz_040': 'RegNetZ: bottleneck ratio 4, no projection shortcut, '
    'linear block output, SiLU',
    'regnetz_040_h': 'RegNetZ: as regnetz_040, plus a final 1x1 conv',
    'regnety_640': 'SEER-only size, none of the published archs',
    'regnety_2560': 'SEER-only size, none of the published archs',
}
# pycls's names for timm's (pycls/models/anynet.py)
PYCLS_NAMES = [
    (r'\.conv1\.conv\.', '.f.a.'), (r'\.conv1\.bn\.', '.f.a_bn.'),
    (r'\.conv2\.conv\.', '.f.b.'), (r'\.conv2\.bn\.', '.f.b_bn.'),
    (r'\.conv3\.conv\.', '.f.c.'), (r'\.conv3\.bn\.', '.f.c_bn.'),
    (r'\.se\.fc1\.', '.f.se.f_ex.0.'), (r'\.se\.fc2\.', '.f.se.f_ex.2.'),
    (r'\.downsample\.conv\.', '.proj.'), (r'\.downsample\.bn\.', '.bn.'),
]
# the three key schemes, spelled out for one block of each kind
KEY_SPECS = {
    'pycls': {
        'stem.conv.weight': 'backbone.conv1.weight',
        'stem.bn.running_var': 'backbone.bn1.running_var',
        's1.b1.proj.weight': 'backbone.layer1.0.downsample.0.weight',
        's1.b1.bn.bias': 'backbone.layer1.0.downsample.1.bias',
        's2.b3.f.a.weight': 'backbone.layer2.2.conv1.weight',
        's2.b3.f.a_bn.running_mean': 'backbone.layer2.2.bn1.running_mean',
        's4.b7.f.b.weight': 'backbone.layer4.6.conv2.weight',
        's4.b7.f.b_bn.num_batches_tracked':
        'backbone.layer4.6.bn2.num_batches_tracked',
        's3.b1.f.se.f_ex.0.bias': 'backbone.layer3.0.se.conv1.bias',
        's3.b1.f.se.f_ex.2.weight': 'backbone.layer3.0.se.conv2.weight',
        's3.b2.f.c.weight': 'backbone.layer3.1.conv3.weight',
        's3.b2.f.c_bn.weight': 'backbone.layer3.1.bn3.weight',
        'head.fc.weight': 'head.fc.weight',
        'head.fc.bias': 'head.fc.bias',
    },
    'torchvision': {
        'stem.0.weight': 'backbone.conv1.weight',
        'stem.1.running_var': 'backbone.bn1.running_var',
        'trunk_output.block1.block1-0.proj.0.weight':
        'backbone.layer1.0.downsample.0.weight',
        'trunk_output.block1.block1-0.proj.1.bias':
        'backbone.layer1.0.downsample.1.bias',
        'trunk_output.block2.block2-2.f.a.0.weight':
        'backbone.layer2.2.conv1.weight',
        'trunk_output.block2.block2-2.f.a.1.running_mean':
        'backbone.layer2.2.bn1.running_mean',
        'trunk_output.block4.block4-6.f.b.0.weight':
        'backbone.layer4.6.conv2.weight',
        'trunk_output.block4.block4-6.f.b.1.num_batches_tracked':
        'backbone.layer4.6.bn2.num_batches_tracked',
        'trunk_output.block3.block3-0.f.se.fc1.bias':
        'backbone.layer3.0.se.conv1.bias',
        'trunk_output.block3.block3-0.f.se.fc2.weight':
        'backbone.layer3.0.se.conv2.weight',
        'trunk_output.block3.block3-1.f.c.0.weight':
        'backbone.layer3.1.conv3.weight',
        'trunk_output.block3.block3-1.f.c.1.weight':
        'backbone.layer3.1.bn3.weight',
        'fc.weight': 'head.fc.weight',
        'fc.bias': 'head.fc.bias',
    },
    'timm': {
        'stem.conv.weight': 'backbone.conv1.weight',
        'stem.bn.running_var': 'backbone.bn1.running_var',
        's1.b1.downsample.conv.weight':
        'backbone.layer1.0.downsample.0.weight',
        's1.b1.downsample.bn.bias': 'backbone.layer1.0.downsample.1.bias',
        's2.b3.conv1.conv.weight': 'backbone.layer2.2.conv1.weight',
        's2.b3.conv1.bn.running_mean': 'backbone.layer2.2.bn1.running_mean',
        's4.b7.conv2.conv.weight': 'backbone.layer4.6.conv2.weight',
        's4.b7.conv2.bn.num_batches_tracked':
        'backbone.layer4.6.bn2.num_batches_tracked',
        's3.b1.se.fc1.bias': 'backbone.layer3.0.se.conv1.bias',
        's3.b1.se.fc2.weight': 'backbone.layer3.0.se.conv2.weight',
        's3.b2.conv3.conv.weight': 'backbone.layer3.1.conv3.weight',
        's3.b2.conv3.bn.weight': 'backbone.layer3.1.bn3.weight',
        'head.fc.weight': 'head.fc.weight',
        'head.fc.bias': 'head.fc.bias',
    },
}
# The publishers' ImageNet-1k accuracies. pycls: 100 - top-1 error of
# MODEL_ZOO.md; timm: (top-1, top-5) at 224 of its results table (the model
# cards of huggingface.co/timm); torchvision's are in its weights' meta.
PYCLS_TOP1 = {
    'regnetx_200mf': 68.9, 'regnetx_400mf': 72.7, 'regnetx_600mf': 74.1,
    'regnetx_800mf': 75.2, 'regnetx_1.6gf': 77.0, 'regnetx_3.2gf': 78.3,
    'regnetx_4.0gf': 78.6, 'regnetx_6.4gf': 79.2, 'regnetx_8.0gf': 79.3,
    'regnetx_12gf': 79.7, 'regnetx_16gf': 80.0, 'regnetx_32gf': 80.5,
    'regnety_200mf': 70.4, 'regnety_400mf': 74.1, 'regnety_600mf': 75.5,
    'regnety_800mf': 76.3, 'regnety_1.6gf': 78.0, 'regnety_3.2gf': 79.0,
    'regnety_4.0gf': 79.4, 'regnety_6.4gf': 79.9, 'regnety_8.0gf': 79.9,
    'regnety_12gf': 80.3, 'regnety_16gf': 80.4, 'regnety_32gf': 81.0,
}
TIMM_RESULTS = {
    'regnetx_002.pycls_in1k': (68.752, 88.556),
    'regnetx_004.pycls_in1k': (72.38, 90.832),
    'regnetx_006.pycls_in1k': (73.862, 91.67),
    'regnetx_008.pycls_in1k': (75.042, 92.342),
    'regnetx_016.pycls_in1k': (76.908, 93.418),
    'regnetx_032.pycls_in1k': (78.178, 94.08),
    'regnetx_040.pycls_in1k': (78.482, 94.24),
    'regnetx_064.pycls_in1k': (79.064, 94.454),
    'regnetx_080.pycls_in1k': (79.198, 94.55),
    'regnetx_120.pycls_in1k': (79.592, 94.738),
    'regnetx_160.pycls_in1k': (79.862, 94.828),
    'regnetx_320.pycls_in1k': (80.246, 95.01),
    'regnety_002.pycls_in1k': (70.282, 89.534),
    'regnety_004.pycls_in1k': (74.018, 91.764),
    'regnety_006.pycls_in1k': (75.244, 92.518),
    'regnety_008.pycls_in1k': (76.296, 93.05),
    'regnety_016.pycls_in1k': (77.862, 93.73),
    'regnety_032.pycls_in1k': (78.884, 94.412),
    'regnety_040.pycls_in1k': (79.23, 94.654),
    'regnety_064.pycls_in1k': (79.716, 94.772),
    'regnety_080.pycls_in1k': (79.882, 94.834),
    'regnety_120.pycls_in1k': (80.37, 95.12),
    'regnety_160.pycls_in1k': (80.288, 94.964),
    'regnety_320.pycls_in1k': (80.804, 95.246),
    'regnety_032.ra_in1k': (81.924, 95.988),
    'regnety_040.ra3_in1k': (82.304, 96.078),
    'regnety_064.ra3_in1k': (83.02, 96.292),
    'regnety_080.ra3_in1k': (83.16, 96.486),
    'regnety_120.sw_in12k_ft_in1k': (84.976, 97.416),
    'regnety_160.sw_in12k_ft_in1k': (85.574, 97.666),
    'regnety_160.lion_in12k_ft_in1k': (85.564, 97.674),
    'regnety_160.deit_in1k': (82.974, 96.502),
}
TV_WEIGHTS = {
    weights.url: (name, weights)
    for name in TORCHVISION for weights in tvm.get_model_weights(name)
}
INDEX = load_model_index()
CONVERTED = sorted(name for name, meta in INDEX.items()
                   if 'Converted From' in meta.data)


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """The inputs are tiny: a second thread would mostly wait (and spin)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# peers ---------------------------------------------------------------------
def torchvision_model(name: str) -> nn.Module:
    """torchvision's model (no weights downloaded). Its widths are computed
    with tensors on the CPU, so that it can be built on the meta device."""
    build_params = tv_regnet.BlockParams.from_init_params.__func__

    def on_cpu(cls, *args, **kwargs):
        with torch.device('cpu'):
            return build_params(cls, *args, **kwargs)

    with mock.patch.object(tv_regnet.BlockParams, 'from_init_params',
                           classmethod(on_cpu)):
        return tvm.get_model(name, weights=None)


def timm_model(name: str) -> nn.Module:
    return timm.create_model(name, pretrained=False)


def skeleton(build, name: str) -> nn.Module:
    """The model on the meta device: its tensors' names and shapes only."""
    with torch.device('meta'):
        return build(name)


def random_model(build, name: str) -> nn.Module:
    """The model with random weights, biases and norm parameters, and norm
    statistics measured on a random batch, variances at least 1: arbitrary
    statistics let activations double in each block, to logits of 1e5 that
    hide differences."""
    model = skeleton(build, name).to_empty(device='cpu')
    generator = torch.Generator().manual_seed(0)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            std = math.sqrt(2 / module.weight[0].numel())
            module.weight.data.normal_(0, std, generator=generator)
            if module.bias is not None:
                module.bias.data.normal_(0, 0.1, generator=generator)
    for norm in norms:
        norm.weight.data.uniform_(0.5, 1.5, generator=generator)
        norm.bias.data.normal_(0, 0.1, generator=generator)
        norm.reset_running_stats()
        norm.momentum = None  # running statistics = the batch's
    with torch.no_grad():
        model.train()(torch.randn(2, 3, 32, 32, generator=generator))
    for norm in norms:
        norm.running_var.clamp_(min=1)
    return model.eval()


def torchvision_stages(model: nn.Module):
    return list(model.trunk_output)


def timm_stages(model: nn.Module):
    return [model.s1, model.s2, model.s3, model.s4]


def our_stages(model: nn.Module):
    backbone = model.backbone
    return [getattr(backbone, name) for name in backbone.res_layers]


def pycls_state_dict(timm_state: dict) -> dict:
    """A timm RegNet's state dict under pycls's names."""
    renamed = {}
    for key, value in timm_state.items():
        for pattern, replacement in PYCLS_NAMES:
            key = re.sub(pattern, replacement, key)
        renamed[key] = value
    return renamed


def pycls_checkpoint(timm_state: dict) -> dict:
    """A checkpoint as pycls's trainer writes it."""
    return dict(
        epoch=99,
        model_state=pycls_state_dict(timm_state),
        optimizer_state=dict(state={}, param_groups=[dict(lr=0.0)]),
        cfg='MODEL:\n  TYPE: regnet\n')


def hub_name(arch: str) -> str:
    return arch.replace('_', '-')


def converted_config(arch: str, weights: str) -> str:
    return str(ROOT / f'configs/converted/{hub_name(arch)}_3rdparty-'
               f'{weights}_in1k.py')


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


def assert_same_predictions(peer, peer_stages, ours, x) -> float:
    """Logits and the output of every stage of ``ours`` equal the peer's to
    1e-4; returns the largest difference."""
    expected, expected_stages = predict(peer, peer_stages(peer), x)
    logits, stages = predict(partial(ours, mode='tensor'), our_stages(ours), x)
    assert len(stages) == len(expected_stages) == 4
    differences = [(logits - expected).abs().max().item()]
    for stage, expected_stage in zip(stages, expected_stages):
        assert stage.shape == expected_stage.shape
        differences.append((stage - expected_stage).abs().max().item())
    assert max(differences) <= TOLERANCE, differences
    return max(differences)


def random_input(size: int = INPUT_SIZE) -> torch.Tensor:
    return torch.randn(
        1, 3, size, size, generator=torch.Generator().manual_seed(0))


def run_converter(source: str, src, dst, *options) -> int:
    return main(source, [str(src), str(dst), *options])


# the key schemes -----------------------------------------------------------
@pytest.mark.parametrize('source', sorted(KEY_SPECS))
def test_key_scheme_of_each_source(source):
    for theirs, ours in KEY_SPECS[source].items():
        assert SOURCES[source].map_key(theirs) == ours
    for stray in ('stem.weight', 'head.weight', 's0.b1.f.a.weight',
                  'trunk_output.block1.block2-0.f.a.0.weight',
                  'fc.extra.weight', 'layer1.0.conv1.weight'):
        assert SOURCES[source].map_key(stray) is None


def test_every_peer_definition_is_converted_or_skipped_with_a_reason():
    assert set(timm.models.regnet.model_cfgs) == set(TIMM) | set(TIMM_SKIPPED)
    assert set(TORCHVISION) == {
        name for name in tvm.list_models() if name.startswith('regnet')
    }


def assert_one_to_one(state_dict, source, arch, rounding):
    conversion = convert_state_dict(state_dict, source)
    assert (conversion.arch, conversion.width_rounding) == (arch, rounding)
    shapes = model_shapes(arch, rounding, 1000)
    # every source key fills one model key, and every model key is filled
    assert len(conversion.state_dict) == len(state_dict) == len(shapes)
    assert {key: value.shape for key, value in
            conversion.state_dict.items()} == shapes
    for key, value in state_dict.items():
        assert conversion.state_dict[SOURCES[source].map_key(key)] is value


@pytest.mark.parametrize('name', sorted(TORCHVISION))
def test_torchvision_keys_map_one_to_one_and_tell_the_arch(name):
    state = skeleton(torchvision_model, name).state_dict()
    assert_one_to_one(state, 'torchvision', *TORCHVISION[name])


@pytest.mark.parametrize('name', sorted(TIMM))
def test_timm_and_pycls_keys_map_one_to_one_and_tell_the_arch(name):
    state = skeleton(timm_model, name).state_dict()
    assert_one_to_one(state, 'timm', *TIMM[name])
    assert_one_to_one(pycls_state_dict(state), 'pycls', *TIMM[name])


@pytest.mark.parametrize('arch,rounding', [('regnetx_400mf', 'torchvision'),
                                           ('regnety_8.0gf', 'pycls')])
def test_model_shapes_are_those_of_the_built_classifier(arch, rounding):
    weights = 'tv-v1' if rounding == 'torchvision' else 'pycls'
    with torch.device('meta'):
        model = get_model(load_config(converted_config(arch, weights)))
    assert {key: value.shape for key, value in
            model.state_dict().items()} == model_shapes(arch, rounding, 1000)


# fidelity: converted checkpoints predict what the peers predict ------------
def save_torchvision(model, path):
    torch.save(model.state_dict(), path)


def save_timm(model, path):
    save_file(model.state_dict(), path)  # as on huggingface.co/timm


def save_pycls(model, path):
    torch.save(pycls_checkpoint(model.state_dict()), path)


# publisher -> (its model, how it saves it, its stages, a file name)
PEERS = {
    'torchvision':
    (torchvision_model, save_torchvision, torchvision_stages, 'regnet.pth'),
    'timm': (timm_model, save_timm, timm_stages, 'model.safetensors'),
    # pycls's model computes what timm's does
    'pycls': (timm_model, save_pycls, timm_stages, 'model.pyth'),
}
# converted in memory: no files of 0.2-0.6 GB
BIG = {'regnet_x_16gf', 'regnet_x_32gf', 'regnet_y_16gf', 'regnet_y_32gf',
       'regnetx_160', 'regnetx_320', 'regnety_160', 'regnety_320'}


def converted_peer(peer, publisher: str, tmp_path) -> dict:
    """The converted state dict of ``peer``: saved in its publisher's format
    and converted by the command line's code."""
    _, save, _, file_name = PEERS[publisher]
    save(peer, tmp_path / file_name)
    assert run_converter(publisher, tmp_path / file_name,
                         tmp_path / 'ours.pth') == 0
    return torch.load(tmp_path / 'ours.pth', weights_only=True)['state_dict']


def check_fidelity(publisher, peer_name, config, tmp_path) -> float:
    build, _, stages, _ = PEERS[publisher]
    peer = random_model(build, peer_name)
    if peer_name in BIG:
        state = convert_state_dict(peer.state_dict(), publisher).state_dict
    else:
        state = converted_peer(peer, publisher, tmp_path)
    return assert_same_predictions(peer, stages,
                                   converted_model(config, state),
                                   random_input())


def fidelity_cases(names):
    return [
        pytest.param(name, marks=pytest.mark.slow) if name in BIG else name
        for name in names if name not in ('regnet_y_128gf', 'regnety_1280')
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


# the command line ----------------------------------------------------------
@pytest.fixture(scope='module')
def x400mf(tmp_path_factory):
    """torchvision's regnet_x_400mf with random weights, saved under the
    file name of its IMAGENET1K_V1 weights."""
    path = tmp_path_factory.mktemp('tv') / 'regnet_x_400mf-adf1edd5.pth'
    torch.save(random_model(torchvision_model, 'regnet_x_400mf').state_dict(),
               path)
    return path


def test_cli_converts_and_names_arch_preprocessing_and_config(
        x400mf, tmp_path):
    dst = tmp_path / 'x400mf.pth'
    result = subprocess.run(
        [sys.executable, 'tools/model_converters/torchvision2mmregnet.py',
         str(x400mf), str(dst)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "torchvision regnetx_400mf (width_rounding='torchvision'), " \
        '1000 classes' in result.stdout
    assert 'input: RGB, mean=[123.675, 116.28, 103.53], ' \
        'std=[58.395, 57.12, 57.375]' in result.stdout
    assert 'to_rgb=True' in result.stdout
    config = 'configs/converted/regnetx-400mf_3rdparty-tv-v1_in1k.py'
    assert f'config: {config}' in result.stdout
    checkpoint = torch.load(dst, weights_only=True)
    assert set(checkpoint) == {'state_dict', 'meta'}
    meta = checkpoint['meta']
    assert (meta['arch'], meta['width_rounding']) == ('regnetx_400mf',
                                                      'torchvision')
    assert meta['converted_from']['source'] == 'torchvision'
    assert meta['input']['channel_order'] == 'RGB'
    # the tensors are torchvision's, unchanged, and load strictly
    model = get_model(str(ROOT / config), pretrained=str(dst))
    peer = torch.load(x400mf, weights_only=True)
    assert torch.equal(model.backbone.layer4[-1].conv3.weight,
                       peer['trunk_output.block4.block4-11.f.c.0.weight'])
    assert torch.equal(model.head.fc.bias, peer['fc.bias'])
    assert model._dataset_meta['classes'][0].startswith('tench')


def test_configs_are_listed_when_the_file_does_not_tell_the_weights(
        x400mf, tmp_path, capsys):
    src = tmp_path / 'mine.pth'
    src.write_bytes(x400mf.read_bytes())
    assert run_converter('torchvision', src, tmp_path / 'ours.pth') == 0
    out = capsys.readouterr().out
    assert 'configs that take these weights' in out
    for weights in ('tv-v1', 'tv-v2'):
        assert f'regnetx-400mf_3rdparty-{weights}_in1k.py' in out
    assert 'pycls_in1k' not in out  # other widths


def test_unknown_source_key_is_an_error_and_nothing_is_written(
        x400mf, tmp_path, capsys):
    state = torch.load(x400mf, weights_only=True)
    state['trunk_output.block1.block1-0.f.extra.weight'] = torch.zeros(1)
    torch.save(state, tmp_path / 'src.pth')
    dst = tmp_path / 'dst.pth'
    assert run_converter('torchvision', tmp_path / 'src.pth', dst) == 1
    error = capsys.readouterr().err
    assert 'trunk_output.block1.block1-0.f.extra.weight' in error
    assert f'nothing written to {dst}' in error
    assert sorted(path.name for path in tmp_path.iterdir()) == ['src.pth']
    # an existing destination is left as it was
    dst.write_bytes(b'earlier')
    assert run_converter('torchvision', tmp_path / 'src.pth', dst) == 1
    assert dst.read_bytes() == b'earlier'
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        'dst.pth', 'src.pth']


def test_model_key_left_unfilled_is_an_error_naming_it(x400mf):
    state = torch.load(x400mf, weights_only=True)
    del state['trunk_output.block2.block2-0.f.b.1.running_var']
    with pytest.raises(ConversionError, match=r'model keys left unfilled: '
                       r'backbone\.layer2\.0\.bn2\.running_var$'):
        convert_state_dict(state, 'torchvision')


def test_tensor_of_the_wrong_shape_is_an_error_naming_it(x400mf):
    state = torch.load(x400mf, weights_only=True)
    state['fc.bias'] = state['fc.bias'][:999]
    with pytest.raises(ConversionError, match=r'wrong shape: head\.fc\.bias '
                       r'\(999,\) \(expected \(1000,\)\)'):
        convert_state_dict(state, 'torchvision')


def test_arch_option_checks_the_checkpoint(x400mf, tmp_path, capsys):
    dst = tmp_path / 'ours.pth'
    assert run_converter('torchvision', x400mf, dst, '--arch',
                         'regnetx_800mf') == 1
    error = capsys.readouterr().err
    assert 'the checkpoint is not a regnetx_800mf' in error
    assert 'it matches regnetx_400mf' in error
    assert not dst.exists()
    assert run_converter('torchvision', x400mf, dst, '--arch',
                         'regnetx_400mf') == 0
    assert "regnetx_400mf (width_rounding='torchvision')" in \
        capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse: not an arch name
        run_converter('torchvision', x400mf, dst, '--arch', 'regnetx_401mf')


def test_checkpoint_of_another_publisher_names_its_converter(x400mf):
    state = torch.load(x400mf, weights_only=True)
    with pytest.raises(ConversionError, match='it looks like a torchvision '
                       'checkpoint: use torchvision2mmregnet.py'):
        convert_state_dict(state, 'timm')


def test_regnet_of_no_known_arch_is_an_error():
    state = skeleton(timm_model, 'regnety_640').state_dict()
    with pytest.raises(ConversionError, match='matches no known RegNet'):
        convert_state_dict(state, 'timm')


def test_training_checkpoints_and_missing_counters(x400mf, tmp_path):
    state = torch.load(x400mf, weights_only=True)
    counters = [key for key in state if key.endswith('num_batches_tracked')]
    for key in counters:
        del state[key]
    torch.save(dict(model=state, epoch=599), tmp_path / 'train.pth')
    assert run_converter('torchvision', tmp_path / 'train.pth',
                         tmp_path / 'ours.pth') == 0
    converted = torch.load(tmp_path / 'ours.pth')['state_dict']
    assert converted['backbone.bn1.num_batches_tracked'] == 0
    # no state dict at all, or pickled objects weights_only refuses
    torch.save(dict(epoch=599), tmp_path / 'empty.pth')
    with pytest.raises(ConversionError, match="no torchvision state dict.*"
                       "epoch.*'model'"):
        convert_file(tmp_path / 'empty.pth', tmp_path / 'x.pth',
                     'torchvision')
    torch.save(dict(model=state, args=argparse.Namespace(lr=0.1)),
               tmp_path / 'args.pth')
    with pytest.raises(ConversionError, match='weights_only=True'):
        convert_file(str(tmp_path / 'args.pth'), tmp_path / 'x.pth',
                     'torchvision')
    assert not (tmp_path / 'x.pth').exists()


def test_the_source_is_never_overwritten(x400mf):
    with pytest.raises(ConversionError, match='refusing to overwrite'):
        convert_file(str(x400mf), str(x400mf), 'torchvision')


def test_missing_source_is_an_error_and_nothing_is_written(tmp_path, capsys):
    src, dst = tmp_path / 'missing.pth', tmp_path / 'dst.pth'
    with pytest.raises(ConversionError, match='no such file: .*missing'):
        convert_file(src, dst, 'torchvision')
    assert not dst.exists()
    # an existing destination: the same error, and it is left as it was
    dst.write_bytes(b'earlier')
    with pytest.raises(ConversionError, match='no such file: .*missing'):
        convert_file(src, dst, 'torchvision')
    assert run_converter('torchvision', src, dst) == 1
    error = capsys.readouterr().err
    assert f'no such file: {src}' in error
    assert f'nothing written to {dst}' in error
    assert dst.read_bytes() == b'earlier'
    assert sorted(path.name for path in tmp_path.iterdir()) == ['dst.pth']


# the model index of converted weights: cited, and configs that fit --------
PUBLISHERS = {source.code: name for name, source in SOURCES.items()}


def original_of(name: str) -> dict:
    return INDEX[name].data['Converted From']


def publisher_of(name: str) -> str:
    return PUBLISHERS[original_of(name)['Code']]


def arch_of(name: str) -> str:
    """Our arch of an entry named ``<arch>_3rdparty-...``."""
    (arch, ) = [arch for arch in ARCHS if name.startswith(hub_name(arch) + '_')]
    return arch


def publisher_widths(name: str):
    """(arch, width rounding) of the publisher's model of the weights."""
    url = original_of(name)['Weights']
    if publisher_of(name) == 'torchvision':
        return TORCHVISION[TV_WEIGHTS[url][0]]
    if publisher_of(name) == 'timm':
        return TIMM[url.split('/')[-1].split('.')[0]]
    return arch_of(name), 'pycls'


def published_metrics(name: str) -> dict:
    url = original_of(name)['Weights']
    if publisher_of(name) == 'torchvision':
        metrics = TV_WEIGHTS[url][1].meta['_metrics']['ImageNet-1K']
        top1, top5 = metrics['acc@1'], metrics['acc@5']
    elif publisher_of(name) == 'timm':
        top1, top5 = TIMM_RESULTS[url.split('/')[-1]]
    else:
        return {'Top 1 Accuracy': PYCLS_TOP1[arch_of(name)]}
    return {'Top 1 Accuracy': top1, 'Top 5 Accuracy': top5}


def test_converted_weights_of_every_publisher_are_indexed():
    urls = {original_of(name)['Weights'] for name in CONVERTED}
    assert len(urls) == len(CONVERTED) == 90
    assert set(TV_WEIGHTS) <= urls  # V1, V2, SWAG
    timm_weights = {f'https://huggingface.co/timm/{name}'
                    for name in TIMM_RESULTS}
    assert timm_weights <= urls
    pycls = [name for name in CONVERTED if publisher_of(name) == 'pycls']
    assert sorted(map(arch_of, pycls)) == sorted(PYCLS_TOP1)
    # names unique across all metafiles: tests/test_model_index.py


@pytest.mark.parametrize('name', CONVERTED)
def test_converted_entry_cites_the_original_and_its_config_fits(name):
    meta = INDEX[name]
    publisher = publisher_of(name)
    assert re.fullmatch(r'regnet[xy]-[0-9.]+[mg]f_3rdparty-[a-z0-9-]+'
                        r'_in1k(-384px)?', name)
    assert meta.weights is None  # not hosted: convert the original
    assert f'{publisher}2mmregnet.py' in meta.data['Comment']
    assert meta.in_collection == 'RegNet-converted'
    (result, ) = meta.results
    assert result.metrics == published_metrics(name)
    if publisher == 'pycls':  # e.g. .../160905981/RegNetX-200MF_dds_8gpu.pyth
        arch = arch_of(name)
        pycls_name = f'RegNet{arch[6].upper()}-{arch[8:].upper()}'
        assert re.fullmatch(
            r'https://dl\.fbaipublicfiles\.com/pycls/dds_baselines/\d+/' +
            re.escape(pycls_name) + r'_dds_8gpu\.pyth',
            original_of(name)['Weights'])
    # the config builds the publisher's widths and normalises as it does
    config = load_config(meta.config)
    backbone = config.model.backbone
    assert backbone.arch == arch_of(name)  # a name, also for RegNetY-128GF
    assert arch_signature(
        arch_of(name), backbone.get('width_rounding', 'pycls')) == \
        arch_signature(*publisher_widths(name))
    source = SOURCES[publisher]
    assert config.data_preprocessor.to_rgb == (source.channel_order == 'RGB')
    assert config.data_preprocessor.mean == pytest.approx(source.mean)
    assert config.data_preprocessor.std == pytest.approx(source.std)


@pytest.mark.parametrize('name', [
    'regnety-128gf_3rdparty-tv-swag-e2e_in1k-384px',
    'regnety-128gf_3rdparty-tv-swag-linear_in1k',
])
def test_regnety_128gf_configs_build_torchvisions_model(name):
    """RegNetY-128GF, no pycls arch (design.EXTRA_ARCH_SETTINGS), is named
    in its configs and builds torchvision's 645 M parameters."""
    assert set(EXTRA_ARCH_SETTINGS) == {'regnety_128gf'}
    config = load_config(INDEX[name].config)
    assert config.model.backbone.arch == 'regnety_128gf'
    with torch.device('meta'):
        model = get_model(config)
    weights = TV_WEIGHTS[original_of(name)['Weights']][1]
    assert sum(p.numel() for p in model.parameters()) == \
        weights.meta['num_params'] == 644812894


def test_converted_entries_point_to_the_original_and_the_converter():
    with pytest.raises(ValueError, match='no published checkpoint') as info:
        get_model('regnetx-400mf_3rdparty-tv-v1_in1k', pretrained=True)
    assert 'https://download.pytorch.org/models/regnet_x_400mf' in str(
        info.value)
    assert 'tools/model_converters/' in str(info.value)


# preprocessing: the configs' test pipelines are the publishers' ------------
def write_image(path: Path, width: int, height: int) -> Path:
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([
        127 + 100 * np.sin(x / 17 + channel) * np.cos(y / 23 - channel)
        for channel in range(3)
    ], -1)
    noise = np.random.RandomState(0).normal(0, 20, pixels.shape)
    Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8)).save(
        path, quality=90)
    return path


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp('images')
    return dict(
        # short side 256, even crop margins: pycls neither resizes nor
        # rounds a crop offset (it takes ceil, mmcv rounds half to even)
        exact=write_image(folder / 'exact.jpg', 320, 256),
        resized=write_image(folder / 'resized.jpg', 300, 200),
        any=write_image(folder / 'any.jpg', 333, 250))


def pycls_input(image: Path, scale: int = 256, crop: int = 224):
    """pycls's test input (pycls/datasets/imagenet.py and transforms.py of
    the model zoo): cv2's BGR image as float, short side scaled to 256
    (bilinear), centre crop 224 (offsets rounded up), BGR mean and std."""
    im = cv2.imread(str(image)).astype(np.float32)
    h, w = im.shape[:2]
    if min(h, w) != scale:
        size = (scale, math.floor(h / w * scale)) if w < h else \
            (math.floor(w / h * scale), scale)
        im = cv2.resize(im, size, interpolation=cv2.INTER_LINEAR)
    h, w = im.shape[:2]
    y, x = math.ceil((h - crop) / 2), math.ceil((w - crop) / 2)
    im = im[y:y + crop, x:x + crop].transpose(2, 0, 1) / 255.0
    mean = np.array([0.406, 0.456, 0.485], np.float32)[:, None, None]
    std = np.array([0.225, 0.224, 0.229], np.float32)[:, None, None]
    return torch.from_numpy((im - mean) / std)[None]


def publisher_input(name: str, image: Path) -> torch.Tensor:
    """The input that the publisher of an entry's weights evaluates."""
    if publisher_of(name) == 'pycls':
        return pycls_input(image)
    url = original_of(name)['Weights']
    if publisher_of(name) == 'torchvision':
        transform = TV_WEIGHTS[url][1].transforms()
    else:
        pretrained_cfg = timm.models.get_pretrained_cfg(url.split('/')[-1])
        transform = timm.data.create_transform(
            **timm.data.resolve_data_config(
                pretrained_cfg=pretrained_cfg.to_dict()))
    return transform(Image.open(image).convert('RGB'))[None]


def config_input(config: Config, image: Path) -> torch.Tensor:
    """The input of the config's test pipeline and data preprocessor."""
    pipeline = Compose([
        TRANSFORMS.build(step)
        for step in config.test_dataloader.dataset.pipeline
    ])
    packed = pipeline(dict(img_path=str(image)))
    preprocessor = MMPRETRAIN_MODELS.build(
        dict(type='ClsDataPreprocessor', **config.data_preprocessor))
    return preprocessor(
        dict(inputs=[packed['inputs']],
             data_samples=[packed['data_samples']]))['inputs']


@pytest.mark.parametrize('name', CONVERTED)
def test_config_gives_the_input_the_publisher_evaluates(name, images):
    image = images['exact' if publisher_of(name) == 'pycls' else 'any']
    expected = publisher_input(name, image)
    ours = config_input(load_config(INDEX[name].config), image)
    assert ours.shape == expected.shape
    assert (ours - expected).abs().max() <= 1e-5


def test_pycls_input_differs_by_resize_rounding_only(images):
    # pycls resizes float images, mmcv uint8 ones: within one grey level
    name = 'regnetx-400mf_3rdparty-pycls_in1k'
    ours = config_input(load_config(INDEX[name].config), images['resized'])
    difference = (ours - pycls_input(images['resized'])).abs().max()
    assert 0 < difference <= 1 / min(SOURCES['pycls'].std)


@pytest.mark.parametrize('name,peer_name', [
    ('regnetx-400mf_3rdparty-tv-v1_in1k', 'regnet_x_400mf'),
    ('regnety-200mf_3rdparty-timm-pycls_in1k', 'regnety_002'),
    ('regnetx-200mf_3rdparty-pycls_in1k', 'regnetx_002'),
])
def test_converted_weights_and_config_predict_what_the_publisher_does(
        name, peer_name, images, tmp_path):
    """An image through the publisher's evaluation and model, and through
    the config's pipeline and the converted checkpoint: the same logits."""
    publisher = publisher_of(name)
    peer = random_model(PEERS[publisher][0], peer_name)
    converted_peer(peer, publisher, tmp_path)
    model = get_model(name, pretrained=str(tmp_path / 'ours.pth')).eval()
    image = images['exact' if publisher == 'pycls' else 'any']
    with torch.no_grad():
        expected = peer(publisher_input(name, image))
        logits = model(
            config_input(load_config(INDEX[name].config), image),
            mode='tensor')
    assert (logits - expected).abs().max() <= TOLERANCE
