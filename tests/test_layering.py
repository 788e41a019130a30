"""Layering: design (pure, torch-free) <- models <- converters <- weights
<- apis; the engine and the deploy runtime beside them. Importing a layer
loads exactly the mmregnet modules it needs (never a higher layer) and the
watched third-party packages listed for it, and only the engine (on import,
or on the ``mmregnet`` scope's first lookup) changes mmengine. Each is
checked in a fresh interpreter. The converters, the model index and the
weight downloader need no host framework: using them imports neither
mmpretrain nor mmdet."""
import fnmatch
import json
import textwrap

import pytest

from .helpers import run_python

HOSTS = ('mmpretrain', 'mmdet')
#: third-party packages whose import a layer's import must not pull in
#: unless it needs them
WATCHED = ('torch', 'mmengine', 'mmcv', 'mmpretrain', 'mmdet', 'onnx',
           'onnxruntime', 'modelindex', 'transformers')

# what importing each layer loads: mmregnet modules (fnmatch patterns; a
# ``*`` lets a module become a package) and the watched packages
BASE = ('mmregnet', 'mmregnet.lazy', 'mmregnet.version', 'mmregnet.design*')
DEPLOY = BASE + ('mmregnet.deploy', 'mmregnet.deploy.fused',
                 'mmregnet.deploy.plan')
MODELS = DEPLOY + ('mmregnet.registry', 'mmregnet.models',
                   'mmregnet.models.backbones*')
INT8 = DEPLOY + ('mmregnet.registry', 'mmregnet.fileio',
                 'mmregnet.deploy.int8_runtime', 'mmregnet.deploy.quantize')
CONVERTERS = BASE + ('mmregnet.fileio', 'mmregnet.model_index',
                     'mmregnet.converters', 'mmregnet.converters.cli',
                     'mmregnet.converters.mapping')
WEIGHTS = CONVERTERS + ('mmregnet.weights', )
ENGINE = MODELS + WEIGHTS + ('mmregnet.models.loading', 'mmregnet.hosts',
                             'mmregnet.engine*')
DETECTION = BASE + ('mmregnet.registry', 'mmregnet.hosts',
                    'mmregnet.detection*')
APIS = ENGINE + ('mmregnet.apis', 'mmregnet.apis.hub',
                 'mmregnet.apis.mmpretrain_hub')
LAYERS = {
    'mmregnet.design': (BASE, set()),
    'mmregnet.models.backbones.regnet':
    (MODELS, {'torch', 'mmengine', 'mmcv'}),
    'mmregnet.deploy': (DEPLOY, {'torch'}),
    # mmdet's models import mmpretrain's (and its model index)
    'mmregnet.detection': (DETECTION, {'torch', 'mmengine', 'mmcv', 'mmdet',
                                       'mmpretrain', 'modelindex'}),
    'mmregnet.deploy.quantize': (INT8, {'torch', 'mmengine'}),
    'mmregnet.converters': (CONVERTERS, {'torch', 'mmengine', 'modelindex'}),
    'mmregnet.weights': (WEIGHTS, {'torch', 'mmengine', 'modelindex'}),
    'mmregnet.engine': (ENGINE, {'torch', 'mmengine', 'mmcv', 'modelindex'}),
    'mmregnet.apis': (APIS, {'torch', 'mmengine', 'mmcv', 'modelindex',
                             'mmpretrain'}),
}
#: mmengine as mmregnet's engine leaves it (engine/registration.py)
INSTALLED = dict(
    mmregnet_scheme=True,
    local_loader='mmregnet.engine.checkpoint',
    load_state_dict='mmregnet.models.loading',
    atomic_backend=True)
UNTOUCHED = dict(
    mmregnet_scheme=False,
    local_loader='mmengine.runner.checkpoint',
    load_state_dict='mmengine.runner.checkpoint',
    atomic_backend=False)
#: the only layers whose import changes mmengine
CHANGES_MMENGINE = ('mmregnet.engine', 'mmregnet.apis')


def loaded_after(code: str) -> dict:
    """After ``code`` in a fresh interpreter: the mmregnet modules
    (``mmregnet``), the top-level packages (``packages``) it has loaded, and
    what mmregnet may change in mmengine (``mmengine``; None when mmengine
    is not loaded)."""
    probe = textwrap.dedent(code) + textwrap.dedent("""
        import json, sys
        modules = sorted(sys.modules)
        state = None
        if 'mmengine' in sys.modules:
            from mmengine.fileio.backends.registry_utils import backends
            from mmengine.runner import checkpoint
            schemes = checkpoint.CheckpointLoader._schemes
            state = dict(
                mmregnet_scheme='mmregnet://' in schemes,
                local_loader=schemes[''].__module__,
                load_state_dict=checkpoint.load_state_dict.__module__,
                atomic_backend='atomic_local' in backends)
        print(json.dumps(dict(
            mmregnet=[m for m in modules if m.split('.')[0] == 'mmregnet'],
            packages=sorted({m.split('.')[0] for m in modules}),
            mmengine=state)))
    """)
    return json.loads(run_python(probe).strip().splitlines()[-1])


def imported_after(code: str) -> set:
    """The top-level packages a fresh interpreter has loaded after
    ``code``."""
    return set(loaded_after(code)['packages'])


@pytest.mark.parametrize('layer', list(LAYERS))
def test_importing_a_layer_loads_what_it_needs_and_no_more(layer):
    patterns, watched = LAYERS[layer]
    loaded = loaded_after(f'import {layer}')
    unexpected = [
        module for module in loaded['mmregnet']
        if not any(fnmatch.fnmatchcase(module, p) for p in patterns)
    ]
    assert unexpected == [], f'importing {layer} loads {unexpected}'
    unused = [
        p for p in patterns
        if not any(fnmatch.fnmatchcase(m, p) for m in loaded['mmregnet'])
    ]
    assert unused == [], f'importing {layer} no longer loads {unused}'
    assert set(loaded['packages']) & set(WATCHED) == watched
    if loaded['mmengine'] is not None:
        assert loaded['mmengine'] == (
            INSTALLED if layer in CHANGES_MMENGINE else UNTOUCHED)


def test_the_scopes_first_lookup_installs_the_checkpoint_loaders():
    """A host config naming ``mmregnet.RegNet`` (mmdet's or mmpretrain's
    ``init_cfg``, ``load_from``, ``--resume``) gets mmregnet's loaders
    without importing mmregnet itself."""
    loaded = loaded_after("""
        from mmengine.registry import MODELS
        MODELS.build(dict(type='mmregnet.RegNet', arch='regnetx_200mf'))
    """)
    assert loaded['mmengine'] == INSTALLED


def test_design_space_imports_no_torch():
    loaded = imported_after("""
        from mmregnet.design import complexity, stage_specs
        complexity(stage_specs('regnety_1.6gf'))
    """)
    assert not loaded & {'torch', 'mmengine', *HOSTS}


def test_converting_indexing_and_fetching_import_no_host(tmp_path):
    loaded = imported_after(f"""
        import torch, torchvision
        from mmregnet.converters import convert_file
        from mmregnet.model_index import list_models
        from mmregnet.weights import weights_of
        model = torchvision.models.regnet_x_400mf()
        torch.save(model.state_dict(), {str(tmp_path / 'tv.pth')!r})
        convert_file({str(tmp_path / 'tv.pth')!r},
                     {str(tmp_path / 'ours.pth')!r}, 'torchvision')
        assert len(list_models('*_3rdparty-*')) == 90 + 15
        weights_of('regnety-1.6gf_3rdparty-pycls_in1k')
        weights_of('regnety-10b_3rdparty-hf-seer_ig1b')
    """)
    assert 'torch' in loaded
    assert not loaded & set(HOSTS)


def test_transformers_conversion_imports_neither_transformers_nor_a_host(
        tmp_path):
    """hf2mmregnet / mmregnet2hf read and write transformers' files
    themselves (export needs the config, so mmengine, not the hosts)."""
    loaded = imported_after(f"""
        import json, torch
        from safetensors.torch import save_file
        from mmregnet.converters.hf import convert_hf, export_hf
        from mmregnet.converters.mapping import model_shapes
        folder = {str(tmp_path / 'hf')!r}
        import os; os.makedirs(folder)
        config = dict(model_type='regnet', depths=[1, 1], groups_width=8,
                      hidden_sizes=[16, 32], layer_type='x')
        json.dump(config, open(folder + '/config.json', 'w'))
        from mmregnet.converters.hf import arch_of_config, _their_key
        arch, stem = arch_of_config(config)
        shapes = model_shapes(arch, 'pycls', 0, stem)
        save_file({{_their_key(k, 'x')[len('regnet.'):]: torch.zeros(s)
                   for k, s in shapes.items()}},
                  folder + '/model.safetensors')
        convert_hf(folder, {str(tmp_path / 'ours.pth')!r})
        export_hf({str(tmp_path / 'ours.py')!r},
                  {str(tmp_path / 'ours.pth')!r}, {str(tmp_path / 'back')!r})
    """)
    assert not loaded & {'transformers', *HOSTS}
