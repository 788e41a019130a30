"""mmregnet: the RegNet family (Radosavovic et al., CVPR 2020) for OpenMMLab.

``import mmregnet`` is light (the torch-free design space); the model-zoo
API (``list_models``, ``get_model``, ``inference_model``) loads mmpretrain on
first use.
"""
from .design import ARCH_SETTINGS, RegNetParams, complexity, stage_specs
from .version import __version__

_API = ('list_models', 'get_model', 'inference_model')


def __getattr__(name):
    if name in _API:
        from . import apis
        return getattr(apis, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    '__version__', 'ARCH_SETTINGS', 'RegNetParams', 'complexity',
    'stage_specs', *_API
]
