"""Layering: design (pure, torch-free) <- models <- apis. The converters,
the model index and the weight downloader need no host framework: using
them imports neither mmpretrain nor mmdet (each checked in a fresh
interpreter)."""
import json
import textwrap

from .helpers import run_python

HOSTS = ('mmpretrain', 'mmdet')


def imported_after(code: str) -> set:
    """The top-level packages a fresh interpreter has loaded after
    ``code``."""
    probe = textwrap.dedent(code) + textwrap.dedent("""
        import json, sys
        print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))
    """)
    out = run_python(probe)
    return set(json.loads(out.strip().splitlines()[-1]))


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
