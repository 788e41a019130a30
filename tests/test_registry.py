"""mmregnet's registry: reachable from every host, leaving the hosts as they
were."""
import json
import textwrap

import pytest

from .helpers import run_python


@pytest.fixture(scope='module')
def hosts() -> dict:
    """One fresh interpreter with both hosts' models loaded and mmregnet not
    imported: snapshots of the hosts' own registries, then each host's
    registry builds ``mmregnet.RegNet`` and mmpretrain an ImageClassifier
    around it, then ``import mmregnet`` and the snapshots again."""
    out = run_python("""
        import json, sys
        import torch
        import mmpretrain.models, mmpretrain.registry as pr
        import mmdet.models, mmdet.registry as dr

        def snapshot():
            state = {}
            for mod in (pr, dr):
                for name, reg in vars(mod).items():
                    # the hosts' own registries (mmengine's roots, which they
                    # re-export, gain the 'mmregnet' child by design)
                    if type(reg).__name__ == 'Registry' and \\
                            reg.scope == mod.__name__.split('.')[0]:
                        key = mod.__name__ + '.' + name
                        modules = reg._module_dict.items()
                        state[key] = dict(
                            modules={k: id(v) for k, v in modules},
                            children=sorted(reg._children),
                            scope=reg.scope)
            return state

        before = snapshot()
        imported_first = 'mmregnet' in sys.modules
        regnets = (pr.MODELS.get('RegNet'), dr.MODELS.get('RegNet'))
        built = {}
        for host, registry in (('mmpretrain', pr.MODELS),
                               ('mmdet', dr.MODELS)):
            backbone = registry.build(
                dict(type='mmregnet.RegNet', arch='regnetx_400mf'))
            built[host] = [type(backbone).__module__,
                           list(backbone.stage_widths)]
        classifier = pr.MODELS.build(dict(
            type='ImageClassifier',
            backbone=dict(type='mmregnet.RegNet', arch='regnetx_200mf'),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=368)))
        logits = classifier(torch.rand(2, 3, 64, 64), mode='tensor')
        import mmregnet, mmregnet.models
        from mmregnet.registry import MODELS
        after = snapshot()
        print(json.dumps(dict(
            imported_first=imported_first, built=built,
            logits=list(logits.shape),
            same=before == after, count=len(before),
            hosts_keep_their_regnet=regnets == (pr.MODELS.get('RegNet'),
                                                dr.MODELS.get('RegNet')),
            host_regnets=[c.__module__ for c in regnets],
            ours=MODELS.get('RegNet').__module__,
            scope=MODELS.scope, parent=MODELS.parent.scope,
            root_children=sorted(MODELS.parent._children))))
    """)
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize('host', ['mmpretrain', 'mmdet'])
def test_host_registry_builds_mmregnet_without_any_import(host, hosts):
    assert not hosts['imported_first']
    assert hosts['built'][host] == ['mmregnet.models.backbones.regnet',
                                    [32, 64, 160, 384]]


@pytest.fixture(scope='module')
def custom_imports(tmp_path_factory) -> dict:
    """Per host, the out_channels of the backbone its registry builds from a
    config that imports mmregnet through ``custom_imports``; both hosts in
    one fresh interpreter, mmdet (whose config import comes first) and then
    mmpretrain."""
    config = tmp_path_factory.mktemp('custom_imports') / 'cfg.py'
    config.write_text(textwrap.dedent("""
        custom_imports = dict(imports=['mmregnet'], allow_failed_imports=False)
        backbone = dict(type='mmregnet.RegNet', arch='regnety_400mf',
                        out_indices=(0, 1, 2, 3))
    """))
    out = run_python(f"""
        import json, sys
        from mmengine.config import Config
        from mmdet.registry import MODELS as MMDET
        from mmpretrain.registry import MODELS as MMPRETRAIN
        assert 'mmregnet' not in sys.modules
        built = {{}}
        for host, registry in (('mmdet', MMDET), ('mmpretrain', MMPRETRAIN)):
            cfg = Config.fromfile({str(config)!r})
            built[host] = list(registry.build(cfg.backbone).out_channels)
        print(json.dumps(built))
    """)
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize('host', ['mmpretrain', 'mmdet'])
def test_host_builds_through_custom_imports(host, custom_imports):
    assert custom_imports[host] == [48, 104, 208, 440]


def test_classifier_from_mmpretrain_with_mmregnet_backbone(hosts):
    assert hosts['logits'] == [2, 10]


def test_importing_mmregnet_leaves_host_registries_unchanged(hosts):
    assert hosts['same'] and hosts['count'] > 20
    assert hosts['hosts_keep_their_regnet']
    assert hosts['host_regnets'] == ['mmpretrain.models.backbones.regnet',
                                     'mmdet.models.backbones.regnet']
    assert hosts['ours'] == 'mmregnet.models.backbones.regnet'
    assert hosts['scope'] == 'mmregnet' and hosts['parent'] == 'mmengine'
    assert hosts['root_children'] == ['mmdet', 'mmpretrain', 'mmregnet']
