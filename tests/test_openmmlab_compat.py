"""State-dict compatibility with OpenMMLab's own RegNet (mmpretrain, mmdet)."""
import pytest
import torch
from mmdet.models.backbones import RegNet as MMDetRegNet
from mmpretrain.models.backbones import RegNet as MMPretrainRegNet

from mmregnet.design import stage_specs
from mmregnet.models import RegNet
from tests.helpers import randomise_norms

MMPRETRAIN_ARCHS = sorted(MMPretrainRegNet.arch_settings)


def test_mmpretrain_archs_are_all_ours_with_the_same_stages():
    """mmpretrain's eight RegNetX archs (each checked below) are named archs
    of ours with the same stage widths, depths and group widths."""
    assert len(MMPRETRAIN_ARCHS) == 8
    for arch in MMPRETRAIN_ARCHS:
        with torch.device('meta'):  # their widths, without the weights
            theirs = MMPretrainRegNet(arch)
        ours = stage_specs(arch)
        assert [spec.width for spec in ours] == theirs.stage_widths, arch
        assert [spec.depth for spec in ours] == theirs.stage_blocks, arch
        assert [spec.group_w for spec in ours] == theirs.group_widths, arch


@pytest.mark.parametrize('arch', MMPRETRAIN_ARCHS)
def test_mmpretrain_state_dict_loads_strictly_with_identical_outputs(arch):
    torch.manual_seed(0)
    theirs = MMPretrainRegNet(arch, out_indices=(0, 1, 2, 3))
    theirs.init_weights()
    randomise_norms(theirs)
    ours = RegNet(arch, out_indices=(0, 1, 2, 3))
    state = theirs.state_dict()
    assert {k: v.shape for k, v in state.items()} == \
        {k: v.shape for k, v in ours.state_dict().items()}
    ours.load_state_dict(state, strict=True)
    x = torch.rand(1, 3, 64, 64)
    theirs.eval(), ours.eval()  # OpenMMLab's ResNet.train returns None
    with torch.no_grad():
        for a, b in zip(theirs(x), ours(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize('arch', ['regnetx_400mf', 'regnetx_3.2gf'])
def test_mmdet_state_dict_loads_strictly(arch):
    theirs = MMDetRegNet(arch, out_indices=(0, 1, 2, 3))
    randomise_norms(theirs)
    ours = RegNet(arch, out_indices=(0, 1, 2, 3))
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.rand(1, 3, 64, 64)
    theirs.eval(), ours.eval()  # OpenMMLab's ResNet.train returns None
    with torch.no_grad():
        for a, b in zip(theirs(x), ours(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
