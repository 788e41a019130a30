"""The converters' key mapping (mmregnet.converters.mapping): each
publisher's names onto ours, one to one, the arch told by the tensor shapes,
and errors that name what does not fit. Models are built on the meta device:
names and shapes only."""
import pytest
import timm
import torch
import torchvision.models as tvm

from mmregnet.apis import get_model
from mmregnet.converters import (SOURCES, ConversionError, convert_state_dict,
                                 model_shapes)
from tests.helpers import load_config
from tests.peers import (TIMM, TORCHVISION, converted_config, pycls_state_dict,
                         skeleton, timm_model, torchvision_model)

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
}
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


@pytest.fixture
def state():
    """torchvision's regnet_x_400mf state dict (tensors on the meta
    device)."""
    return skeleton(torchvision_model, 'regnet_x_400mf').state_dict()


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


def test_model_key_left_unfilled_is_an_error_naming_it(state):
    del state['trunk_output.block2.block2-0.f.b.1.running_var']
    with pytest.raises(ConversionError, match=r'model keys left unfilled: '
                       r'backbone\.layer2\.0\.bn2\.running_var$'):
        convert_state_dict(state, 'torchvision')


def test_tensor_of_the_wrong_shape_is_an_error_naming_it(state):
    state['fc.bias'] = state['fc.bias'][:999]
    with pytest.raises(ConversionError, match=r'wrong shape: head\.fc\.bias '
                       r'\(999,\) \(expected \(1000,\)\)'):
        convert_state_dict(state, 'torchvision')


def test_checkpoint_of_another_publisher_names_its_converter(state):
    with pytest.raises(ConversionError, match='it looks like a torchvision '
                       'checkpoint: use torchvision2mmregnet.py'):
        convert_state_dict(state, 'timm')


def test_regnet_of_no_known_arch_is_an_error():
    state = skeleton(lambda name: timm.create_model(
        'regnety_002', pretrained=False, depth=12), 'regnety_002').state_dict()
    with pytest.raises(ConversionError, match='matches no known RegNet'):
        convert_state_dict(state, 'timm')
