"""mmregnet: the RegNet family (Radosavovic et al., CVPR 2020) for OpenMMLab.

``import mmregnet`` is light (the torch-free design space); the model-zoo
API (``list_models``, ``get_model``, ``inference_model``) loads mmpretrain on
first use. The types that configs name ``mmregnet.<Type>`` (``RegNet``,
``PortableCheckpointHook``, ``TopBoxAccuracy``, ...) import from here too,
also on first use.
"""
from .design import ARCH_SETTINGS, RegNetParams, complexity, stage_specs
from .lazy import lazy_names
from .version import __version__

#: the model-zoo API, and the registered types by the subpackage that
#: registers them
_LAZY = {
    **dict.fromkeys(('list_models', 'get_model', 'inference_model'),
                    '.apis'),
    'RegNet': '.models',
    'Int8Classifier': '.models',
    'PortableCheckpointHook': '.engine',
    'ChannelsLastHook': '.engine',
    'CPUBF16OptimWrapper': '.engine',
    'RegNetFSDPStrategy': '.engine',
    'TopBoxAccuracy': '.evaluation',
    'SeparableRoIExtractor': '.detection',
}
__getattr__ = lazy_names(__name__, _LAZY)

__all__ = [
    '__version__', 'ARCH_SETTINGS', 'RegNetParams', 'complexity',
    'stage_specs', *_LAZY
]
