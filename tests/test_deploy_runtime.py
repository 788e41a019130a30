"""Deploy mode's CPU runtime is apart from the model: torch's private oneDNN
ops are looked up on first use, and a torch build without them still imports
mmregnet.models, trains and runs deploy mode on the plain path."""
import textwrap

import torch

from mmregnet.deploy import OneDNNPlan
from mmregnet.deploy.fused import onednn_ops
from mmregnet.models import RegNet

from .helpers import run_python

WITHOUT_ONEDNN_OPS = textwrap.dedent('''
    import copy, types
    import torch
    # a torch build without the private oneDNN ops: torch.ops.mkldnn empty
    torch.ops.mkldnn = types.SimpleNamespace()
    from mmregnet.models import RegNet
    from mmregnet.deploy.fused import onednn_eligible, onednn_ops
    from tests.helpers import randomise_norms

    torch.manual_seed(0)
    model = randomise_norms(RegNet('regnetx_200mf', out_indices=(1, 3)))
    model.train()
    model(torch.randn(2, 3, 32, 32))[-1].sum().backward()  # training works
    model.eval()
    deployed = copy.deepcopy(model)
    deployed.switch_to_deploy()
    x = torch.randn(5, 3, 64, 64)
    with torch.no_grad():
        assert onednn_ops() is None and not onednn_eligible(x)
        for actual, expected in zip(deployed(x), model(x)):
            torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)
            assert not actual.is_mkldnn
    print('plain path OK')
''')


def test_deploy_without_private_onednn_ops_runs_the_plain_path():
    assert 'plain path OK' in run_python(WITHOUT_ONEDNN_OPS)


def test_this_torch_build_has_the_onednn_ops():
    # what the fast path of tests/test_performance.py runs on
    assert onednn_ops() is not None


def test_switch_to_deploy_installs_the_plan_only_for_relu():
    model = RegNet('regnetx_200mf').eval()
    assert model.deploy_plan is None
    model.switch_to_deploy()
    assert isinstance(model.deploy_plan, OneDNNPlan)
    assert model.deploy_plan.blocked_layout
    assert RegNet('regnety_200mf', deploy=True).deploy_plan.blocked_layout \
        is False
    # oneDNN fuses only ReLU: other activations run the plain loop
    silu = RegNet('regnetx_200mf', act_cfg=dict(type='SiLU'), deploy=True)
    assert silu.deploy_plan is None
    with torch.no_grad():
        assert silu(torch.rand(1, 3, 32, 32))[0].shape == (1, 368, 1, 1)


def test_micro_batched_stages_follow_the_input_size():
    plan = OneDNNPlan((2, 2, 2, 2, 2), blocked_layout=True)
    # 224: stem (224^2), layer1 (112^2), layer2 (56^2) >= 56^2 pixels
    assert plan.micro_batched_stages(torch.empty(5, 3, 224, 224)) == 3
    assert plan.micro_batched_stages(torch.empty(4, 3, 224, 224)) == 0
    assert plan.micro_batched_stages(torch.empty(5, 3, 32, 32)) == 0
    # never the last stage, however large the input
    assert plan.micro_batched_stages(torch.empty(5, 3, 4096, 4096)) == 4
