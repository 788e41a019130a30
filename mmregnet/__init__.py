"""mmregnet: the RegNet family (Radosavovic et al., CVPR 2020) for OpenMMLab."""
from .design import ARCH_SETTINGS, RegNetParams, complexity, stage_specs
from .version import __version__

__all__ = [
    '__version__', 'ARCH_SETTINGS', 'RegNetParams', 'complexity', 'stage_specs'
]
