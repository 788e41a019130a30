"""The model index of converted weights (configs/converted/metafile.yml):
every entry cites the publisher's own file (the exact URL each publisher
serves, or Hub repo) and accuracy, and its config builds the publisher's
model and normalises as it does."""
import re

import pytest
import timm
import torch

from mmregnet.apis import get_model
from mmregnet.converters import SOURCES
from mmregnet.converters.mapping import arch_signature
from mmregnet.design import EXTRA_ARCH_SETTINGS
from mmregnet.model_index import list_models
from mmregnet.weights import HASH_IN_FILE_NAME
from tests.helpers import load_config
from tests.peers import (CONVERTED, INDEX, TIMM_FILE, TV_WEIGHTS, arch_of,
                         original_of, publisher_of, publisher_widths, timm_tag)

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
# SEER (vissl's projects/SEER/README.md): ImageNet-1k top-1 of the trunks
# fine-tuned on it, at 384 px; none for a trunk. transformers' -seer-in1k
# repos hold the same files (its convert_regnet_to_pytorch.py and
# convert_regnet_seer_10b_to_pytorch.py read vissl's URLs).
SEER_TOP1 = {
    'regnety_32gf': 83.4, 'regnety_64gf': 84.0, 'regnety_128gf': 84.5,
    'regnety_256gf': 85.2, 'regnety_10b': 85.8,
}
# timm's names of the SEER sizes, and of transformers' Hub repos
SEER_TIMM = {'regnety_32gf': 'regnety_320', 'regnety_64gf': 'regnety_640',
             'regnety_128gf': 'regnety_1280', 'regnety_256gf': 'regnety_2560'}
SEER_HF = {'regnety_32gf': '320', 'regnety_64gf': '640',
           'regnety_128gf': '1280', 'regnety_10b': '10b'}
SEER_README = ('https://github.com/facebookresearch/vissl/blob/main/'
               'projects/SEER/README.md')
SEER = [name for name in CONVERTED
        if publisher_of(name) in ('vissl', 'transformers')]


def published_metrics(name: str) -> dict:
    if name in SEER:
        trunk = original_of(name).get('Backbone Only', False)
        return {} if trunk else {'Top 1 Accuracy': SEER_TOP1[arch_of(name)]}
    if publisher_of(name) == 'torchvision':
        weights = TV_WEIGHTS[original_of(name)['Weights']][1]
        metrics = weights.meta['_metrics']['ImageNet-1K']
        top1, top5 = metrics['acc@1'], metrics['acc@5']
    elif publisher_of(name) == 'timm':
        top1, top5 = TIMM_RESULTS[timm_tag(name)]
    else:
        return {'Top 1 Accuracy': PYCLS_TOP1[arch_of(name)]}
    return {'Top 1 Accuracy': top1, 'Top 5 Accuracy': top5}


def test_converted_weights_of_every_publisher_are_indexed():
    urls = {original_of(name)['Weights'] for name in CONVERTED}
    assert len(urls) == len(CONVERTED) == 90 + 15
    assert set(TV_WEIGHTS) <= urls  # V1, V2, SWAG
    timm_weights = {f'https://huggingface.co/timm/{tag}/resolve/main/'
                    'model.safetensors' for tag in TIMM_RESULTS}
    assert timm_weights <= urls
    pycls = [name for name in CONVERTED if publisher_of(name) == 'pycls']
    assert sorted(map(arch_of, pycls)) == sorted(PYCLS_TOP1)
    # SEER: vissl's trunks that timm maps and the four fine-tuned files;
    # transformers' 320, 640, 1280 and 10B repos, trunk and fine-tuned
    assert sorted(name.split('_3rdparty-')[1] for name in SEER) == sorted(
        ['seer_ig1b'] * 3 + ['seer-ft_in1k-384px'] * 4 +
        ['hf-seer_ig1b', 'hf-seer-ft_in1k-384px'] * 4)
    assert list_models('*seer*') == sorted(SEER)
    # names unique across all metafiles: tests/test_model_index.py


@pytest.mark.parametrize('name', CONVERTED)
def test_converted_entry_cites_the_original_and_its_config_fits(name):
    meta = INDEX[name]
    publisher = publisher_of(name)
    assert re.fullmatch(r'regnet[xy]-[0-9.]+(mf|gf|b)_3rdparty-[a-z0-9-]+'
                        r'_(in1k(-384px)?|ig1b)', name)
    assert meta.weights is None  # not hosted: converted on first use
    assert SOURCES[publisher].tool in meta.data['Comment']
    # a trunk (self-supervised on Instagram-1B) is headless and says so
    trunk = name.endswith('_ig1b')
    assert original_of(name).get('Backbone Only', False) == trunk
    assert ('A headless trunk' in meta.data['Comment']) == trunk
    assert meta.in_collection == 'RegNet-converted'
    (result, ) = meta.results
    assert result.metrics == published_metrics(name)
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
    assert 'regnety_128gf' in EXTRA_ARCH_SETTINGS
    config = load_config(INDEX[name].config)
    assert config.model.backbone.arch == 'regnety_128gf'
    with torch.device('meta'):
        model = get_model(config)
    weights = TV_WEIGHTS[original_of(name)['Weights']][1]
    assert sum(p.numel() for p in model.parameters()) == \
        weights.meta['num_params'] == 644812894


# the exact file of each publisher (what mmregnet.weights downloads) ---------
def pycls_url(arch: str) -> str:
    """The pattern of pycls's model-zoo URLs, e.g. ``.../dds_baselines/
    160905981/RegNetX-200MF_dds_8gpu.pyth``."""
    pycls_name = f'RegNet{arch[6].upper()}-{arch[8:].upper()}'
    return (r'https://dl\.fbaipublicfiles\.com/pycls/dds_baselines/\d+/' +
            re.escape(pycls_name) + r'_dds_8gpu\.pyth')


@pytest.mark.parametrize('name', CONVERTED)
def test_original_is_the_file_the_publisher_serves(name):
    original = original_of(name)
    url, publisher = original['Weights'], publisher_of(name)
    if publisher == 'pycls':
        assert re.fullmatch(pycls_url(arch_of(name)), url)
    elif publisher == 'torchvision':  # torchvision's own weights enum
        assert url in TV_WEIGHTS
        assert re.fullmatch(r'https://download\.pytorch\.org/models/'
                            r'regnet_[xy]_\w+-[0-9a-f]{8}\.pth', url)
    elif publisher == 'timm':  # the file itself, and its model card
        assert TIMM_FILE.fullmatch(url)
        assert original['Page'] == \
            f'https://huggingface.co/timm/{timm_tag(name)}'
    elif publisher == 'vissl':  # the file timm reads for the same weights
        trunk = original.get('Backbone Only', False)
        tag = f"{SEER_TIMM[arch_of(name)]}.seer{'' if trunk else '_ft_in1k'}"
        assert url == timm.models.get_pretrained_cfg(tag).url
        assert original['Page'] == SEER_README
    else:  # transformers' Hub repo of the size, and its model card
        trunk = original.get('Backbone Only', False)
        repo = (f'facebook/regnet-y-{SEER_HF[arch_of(name)]}-seer'
                f"{'' if trunk else '-in1k'}")
        assert url == f'hf-hub:{repo}'
        assert original['Page'] == f'https://huggingface.co/{repo}'
    # a whole sha256, where stated, agrees with the file name's digits
    if 'SHA256' in original:
        assert re.fullmatch('[0-9a-f]{64}', original['SHA256'])
        in_name = HASH_IN_FILE_NAME.search(url)
        assert not in_name or original['SHA256'].startswith(
            in_name['digits'])
