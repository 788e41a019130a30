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
        assert len(list_models('*_3rdparty-*')) == 90
        weights_of('regnety-1.6gf_3rdparty-pycls_in1k')
    """)
    assert 'torch' in loaded
    assert not loaded & set(HOSTS)
