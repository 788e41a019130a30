"""The publishers' RegNets, built with random weights (nothing is
downloaded) and saved in their own formats, and the model-index entries of
their converted weights: shared by the converter and weight-download tests.

pycls cannot be installed: its checkpoints are made from timm models with
pycls's key scheme (pycls/models/anynet.py: ``s{i}.b{j}.proj / .bn``,
``.f.a / .f.a_bn / .f.b / .f.b_bn / .f.se.f_ex.0 / .f.se.f_ex.2 / .f.c /
.f.c_bn``, ``stem.conv / stem.bn``, ``head.fc``).
"""
import math
import re
from pathlib import Path
from unittest import mock

import pytest
import timm
import torch
import torch.nn as nn
import torchvision.models as tvm
from safetensors.torch import save_file
from torchvision.models import regnet as tv_regnet

from mmregnet import converters
from mmregnet.converters import main
from mmregnet.design import NAMED_ARCHS
from mmregnet.model_index import load_model_index

ROOT = Path(__file__).resolve().parents[1]

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
    'regnety_640': ('regnety_64gf', 'pycls'),  # SEER
    'regnety_2560': ('regnety_256gf', 'pycls'),  # SEER
}
#: peers too large to materialise in a unit test (0.3-1.3 G parameters)
SEER_SIZES = ('regnet_y_128gf', 'regnety_640', 'regnety_1280', 'regnety_2560')
# pycls's names for timm's (pycls/models/anynet.py)
PYCLS_NAMES = [
    (r'\.conv1\.conv\.', '.f.a.'), (r'\.conv1\.bn\.', '.f.a_bn.'),
    (r'\.conv2\.conv\.', '.f.b.'), (r'\.conv2\.bn\.', '.f.b_bn.'),
    (r'\.conv3\.conv\.', '.f.c.'), (r'\.conv3\.bn\.', '.f.c_bn.'),
    (r'\.se\.fc1\.', '.f.se.f_ex.0.'), (r'\.se\.fc2\.', '.f.se.f_ex.2.'),
    (r'\.downsample\.conv\.', '.proj.'), (r'\.downsample\.bn\.', '.bn.'),
]

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


# timm's names -> vissl's (inverse of timm's _filter_fn replacements)
TO_VISSL = [
    (r'^stem\.conv\.', '_feature_blocks.conv1.stem.0.'),
    (r'^stem\.bn\.', '_feature_blocks.conv1.stem.1.'),
    (r'^s(\d)\.b(\d+)\.', lambda m: f'_feature_blocks.res{int(m[1]) + 1}.'
     f'block{m[1]}-{int(m[2]) - 1}.'),
    (r'\.conv1\.conv\.', '.f.a.0.'), (r'\.conv1\.bn\.', '.f.a.1.'),
    (r'\.conv2\.conv\.', '.f.b.0.'), (r'\.conv2\.bn\.', '.f.b.1.'),
    (r'\.se\.fc1\.', '.f.se.excitation.0.'),
    (r'\.se\.fc2\.', '.f.se.excitation.2.'),
    (r'\.conv3\.conv\.', '.f.c.'), (r'\.conv3\.bn\.', '.f.final_bn.'),
    (r'\.downsample\.conv\.', '.proj.'), (r'\.downsample\.bn\.', '.bn.'),
]
SWAV_HEADS = {
    '0.projection_head.0.weight': torch.zeros(8, 440),
    '0.prototypes0.weight': torch.zeros(16, 8),
}


def vissl_checkpoint(timm_state: dict, head: bool) -> dict:
    """A vissl training checkpoint of a timm RegNet's weights: a fine-tuned
    classifier's (``head``), else a self-supervised trunk's with SwAV's
    training heads."""
    trunk, heads = {}, {}
    for key, value in timm_state.items():
        if key.startswith('head.fc.'):
            heads[key.replace('head.fc.', '0.clf.0.')] = value
            continue
        for pattern, replacement in TO_VISSL:
            key = re.sub(pattern, replacement, key)
        trunk[key] = value
    if not head:
        heads = dict(SWAV_HEADS)
    model = dict(trunk=trunk, heads=heads)
    return dict(
        classy_state_dict=dict(base_model=dict(model=model)),
        phase_idx=0, iteration=1)


def save_vissl(model, path):
    """A fine-tuned classifier as vissl saves it."""
    torch.save(vissl_checkpoint(model.state_dict(), head=True), path)


def save_vissl_trunk(model, path):
    """A self-supervised trunk as vissl saves it (the model's head is not
    saved; SwAV's training heads are)."""
    torch.save(vissl_checkpoint(model.state_dict(), head=False), path)


def hub_name(arch: str) -> str:
    return arch.replace('_', '-')


def converted_config(arch: str, weights: str) -> str:
    return str(ROOT / f'configs/converted/{hub_name(arch)}_3rdparty-'
               f'{weights}_in1k.py')


def run_converter(source: str, src, dst, *options) -> int:
    return main(source, [str(src), str(dst), *options])


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
    # vissl's RegNet (classy-vision) computes what timm's does
    'vissl': (timm_model, save_vissl, timm_stages, 'model.torch'),
}


def converted_peer(peer, publisher: str, tmp_path) -> dict:
    """The converted state dict of ``peer``: saved in its publisher's format
    and converted by the command line's code."""
    _, save, _, file_name = PEERS[publisher]
    save(peer, tmp_path / file_name)
    assert run_converter(publisher, tmp_path / file_name,
                         tmp_path / 'ours.pth') == 0
    return torch.load(tmp_path / 'ours.pth', weights_only=True)['state_dict']


# the index entries of converted weights -------------------------------------
TIMM_FILE = re.compile(r'https://huggingface\.co/timm/(?P<tag>[a-z0-9_]+\.'
                       r'[a-z0-9_]+)/resolve/main/model\.safetensors')


def original_of(name: str) -> dict:
    return INDEX[name].data['Converted From']


def publisher_of(name: str) -> str:
    return converters.publisher_of(original_of(name)['Code']).name


def timm_tag(name: str) -> str:
    """timm's ``<model>.<tag>`` of a timm entry's file URL."""
    return TIMM_FILE.fullmatch(original_of(name)['Weights'])['tag']


def arch_of(name: str) -> str:
    """Our arch of an entry named ``<arch>_3rdparty-...``."""
    (arch, ) = [
        arch for arch in NAMED_ARCHS if name.startswith(hub_name(arch) + '_')
    ]
    return arch


def publisher_widths(name: str):
    """(arch, width rounding) of the publisher's model of the weights."""
    if publisher_of(name) == 'torchvision':
        return TORCHVISION[TV_WEIGHTS[original_of(name)['Weights']][0]]
    if publisher_of(name) == 'timm':
        return TIMM[timm_tag(name).split('.')[0]]
    return arch_of(name), 'pycls'
