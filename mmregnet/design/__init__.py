"""The RegNet design space and the paper's methods on it, as pure functions
(no torch).

* :mod:`~mmregnet.design.space`: design parameters, the published archs and
  their per-stage specs (:func:`stage_specs`);
* :mod:`~mmregnet.design.complexity`: parameters, multiply-adds and
  activations counted from the specs alone, the way pycls counts them;
* :mod:`~mmregnet.design.scaling`: growing or shrinking a model along depth,
  width, group width and resolution ("Fast and Accurate Model Scaling",
  Dollar et al., CVPR 2021);
* :mod:`~mmregnet.design.sampling`: drawing RegNets as pycls's sweeps do;
* :mod:`~mmregnet.design.fitting`: recovering ``(w0, wa, wm, d)`` from
  per-block widths.
"""
from .complexity import Complexity, complexity
from .fitting import fit, fit_error
from .sampling import SAMPLE_RANGES, sample
from .scaling import (FAST_COMPOUND_SCALING, FLOPS_TOLERANCE, Scaled, scale,
                      scale_factor_for, scaling_factors)
from .space import (ANYNET_KEYS, ARCH_SETTINGS, EXTRA_ARCH_SETTINGS,
                    MAX_STAGES, NAMED_ARCHS, ROUNDING_MODES, WIDTH_QUANTUM,
                    AnyNetParams, ArchLike, RegNetParams, StageSpec,
                    block_steps, bottleneck_width, check_int, check_number,
                    check_se_ratio, compatible_stage, group_stages,
                    quantized_block_widths, resolve_arch, stage_specs)

__all__ = [
    'ANYNET_KEYS', 'ARCH_SETTINGS', 'EXTRA_ARCH_SETTINGS', 'MAX_STAGES',
    'NAMED_ARCHS', 'ROUNDING_MODES', 'WIDTH_QUANTUM', 'AnyNetParams',
    'ArchLike', 'RegNetParams', 'StageSpec', 'block_steps',
    'bottleneck_width', 'check_int', 'check_number', 'check_se_ratio',
    'compatible_stage', 'group_stages', 'quantized_block_widths',
    'resolve_arch', 'stage_specs', 'Complexity', 'complexity', 'fit',
    'fit_error', 'SAMPLE_RANGES', 'sample', 'FAST_COMPOUND_SCALING',
    'FLOPS_TOLERANCE', 'Scaled', 'scale', 'scale_factor_for',
    'scaling_factors'
]
