"""mmregnet's registry: reachable from every host, leaving the hosts as they
were."""
import json
import textwrap

import pytest

from .helpers import run_python


@pytest.mark.parametrize('host', ['mmpretrain', 'mmdet'])
def test_host_registry_builds_mmregnet_without_any_import(host):
    out = run_python(f"""
        from {host}.registry import MODELS
        backbone = MODELS.build(
            dict(type='mmregnet.RegNet', arch='regnetx_400mf'))
        print(type(backbone).__module__, backbone.stage_widths)
    """)
    assert out.split()[0] == 'mmregnet.models.backbones.regnet'
    assert '(32, 64, 160, 384)' in out


@pytest.mark.parametrize('host', ['mmpretrain', 'mmdet'])
def test_host_builds_through_custom_imports(host, tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(textwrap.dedent("""
        custom_imports = dict(imports=['mmregnet'], allow_failed_imports=False)
        backbone = dict(type='mmregnet.RegNet', arch='regnety_400mf',
                        out_indices=(0, 1, 2, 3))
    """))
    out = run_python(f"""
        from mmengine.config import Config
        from {host}.registry import MODELS
        cfg = Config.fromfile({str(config)!r})
        print(MODELS.build(cfg.backbone).out_channels)
    """)
    assert out.strip() == '(48, 104, 208, 440)'


def test_classifier_from_mmpretrain_with_mmregnet_backbone():
    out = run_python("""
        import torch
        from mmpretrain.registry import MODELS
        model = MODELS.build(dict(
            type='ImageClassifier',
            backbone=dict(type='mmregnet.RegNet', arch='regnetx_200mf'),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=368)))
        print(tuple(model(torch.rand(2, 3, 64, 64), mode='tensor').shape))
    """)
    assert out.strip() == '(2, 10)'


def test_importing_mmregnet_leaves_host_registries_unchanged():
    out = run_python("""
        import json
        import mmpretrain.models, mmpretrain.registry as pr
        import mmdet.models, mmdet.registry as dr

        def snapshot():
            state = {}
            for mod in (pr, dr):
                for name, reg in vars(mod).items():
                    # the hosts' own registries (mmengine's roots, which they
                    # re-export, gain the 'mmregnet' child by design)
                    if type(reg).__name__ == 'Registry' and \
                            reg.scope == mod.__name__.split('.')[0]:
                        key = mod.__name__ + '.' + name
                        modules = reg._module_dict.items()
                        state[key] = dict(
                            modules={k: id(v) for k, v in modules},
                            children=sorted(reg._children),
                            scope=reg.scope)
            return state

        before = snapshot()
        regnets = (pr.MODELS.get('RegNet'), dr.MODELS.get('RegNet'))
        import mmregnet, mmregnet.models
        from mmregnet.registry import MODELS
        pr.MODELS.build(dict(type='mmregnet.RegNet', arch='regnetx_200mf'))
        dr.MODELS.build(dict(type='mmregnet.RegNet', arch='regnetx_200mf'))
        after = snapshot()
        print(json.dumps(dict(
            same=before == after, count=len(before),
            hosts_keep_their_regnet=regnets == (pr.MODELS.get('RegNet'),
                                                dr.MODELS.get('RegNet')),
            host_regnets=[c.__module__ for c in regnets],
            ours=MODELS.get('RegNet').__module__,
            scope=MODELS.scope, parent=MODELS.parent.scope,
            root_children=sorted(MODELS.parent._children))))
    """)
    result = json.loads(out.strip().splitlines()[-1])
    assert result['same'] and result['count'] > 20
    assert result['hosts_keep_their_regnet']
    assert result['host_regnets'] == ['mmpretrain.models.backbones.regnet',
                                      'mmdet.models.backbones.regnet']
    assert result['ours'] == 'mmregnet.models.backbones.regnet'
    assert result['scope'] == 'mmregnet' and result['parent'] == 'mmengine'
    assert result['root_children'] == ['mmdet', 'mmpretrain', 'mmregnet']
