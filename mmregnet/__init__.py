"""mmregnet: the RegNet family (Radosavovic et al., CVPR 2020) for OpenMMLab.

``import mmregnet`` is light (the torch-free design space); the model-zoo
API (``list_models``, ``get_model``, ``inference_model``) loads mmpretrain on
first use. The types that configs name ``mmregnet.<Type>`` (``RegNet``,
``PortableCheckpointHook``, ``TopBoxAccuracy``, ...) import from here too,
also on first use.
"""
from .design import ARCH_SETTINGS, RegNetParams, complexity, stage_specs
from .version import __version__

_API = ('list_models', 'get_model', 'inference_model')
#: the registered types, by the subpackage that registers them
_TYPES = {
    'RegNet': 'models',
    'Int8Classifier': 'models',
    'PortableCheckpointHook': 'engine',
    'ChannelsLastHook': 'engine',
    'CPUBF16OptimWrapper': 'engine',
    'RegNetFSDPStrategy': 'engine',
    'TopBoxAccuracy': 'evaluation',
}


def __getattr__(name):
    if name in _API or name in _TYPES:
        import importlib
        package = importlib.import_module(
            f'.{_TYPES.get(name, "apis")}', __name__)
        return getattr(package, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    '__version__', 'ARCH_SETTINGS', 'RegNetParams', 'complexity',
    'stage_specs', *_API, *_TYPES
]
