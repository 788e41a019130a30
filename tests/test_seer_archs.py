"""The SEER sizes (design.EXTRA_ARCH_SETTINGS): regnety_64gf, 128gf, 256gf
and 10b have the parameters of timm's and transformers' definitions of the
same models, all counted on the meta device; the 10B model (9.4 G
parameters, 37 GB in fp32) is never materialised."""
import pytest
import timm
import torch

from mmregnet.converters.hf import arch_of_config
from mmregnet.design import complexity
from mmregnet.models.backbones.regnet import RegNet
from tests.transformers_env import pinned_transformers, run_transformers

# complexity() of each, with a 1000-class head (as the lead computed them)
PARAMS = {
    'regnety_64gf': 281_378_786,
    'regnety_128gf': 644_812_894,
    'regnety_256gf': 1_282_601_138,
    'regnety_10b': 9_352_215_872,
}
TIMM = {
    'regnety_640': 'regnety_64gf',
    'regnety_1280': 'regnety_128gf',
    'regnety_2560': 'regnety_256gf',
}
# transformers' configs of facebook/regnet-y-{640,1280,10b}-seer
# (transformers/models/regnet/convert_regnet_to_pytorch.py); its
# regnet-y-2560-seer config is another model than timm's regnety_2560
HF = {
    'regnety_64gf': dict(depths=[2, 5, 12, 1],
                         hidden_sizes=[328, 984, 1968, 4920],
                         groups_width=328),
    'regnety_128gf': dict(depths=[2, 7, 17, 1],
                          hidden_sizes=[528, 1056, 2904, 7392],
                          groups_width=264),
    'regnety_10b': dict(depths=[2, 7, 17, 1],
                        hidden_sizes=[2020, 4040, 11110, 28280],
                        groups_width=1010),
}


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_complexity_counts_the_seer_sizes():
    assert {arch: complexity(arch).params for arch in PARAMS} == PARAMS


@pytest.mark.parametrize('timm_name', sorted(TIMM))
def test_timm_definition_has_our_parameters(timm_name):
    with torch.device('meta'):
        peer = timm.create_model(timm_name, pretrained=False)
    assert count(peer) == PARAMS[TIMM[timm_name]]


def test_10b_backbone_builds_on_the_meta_device():
    with torch.device('meta'):
        backbone = RegNet('regnety_10b')
    assert count(backbone) == complexity('regnety_10b', num_classes=0).params
    assert backbone.stage_widths == (2020, 4040, 11110, 28280)


def test_transformers_definitions_have_our_parameters_and_names(tmp_path):
    jobs = [dict(action='count', config=config) for config in HF.values()]
    results = run_transformers(jobs, pinned_transformers(), tmp_path)
    for (arch, config), result in zip(HF.items(), results):
        assert result['params'] == complexity(arch, num_classes=0).params
        named = arch_of_config(dict(config, model_type='regnet'))
        assert named == (arch, 32)
