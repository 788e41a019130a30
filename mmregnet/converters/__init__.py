"""Conversion of pycls, torchvision and timm RegNet checkpoints into
mmregnet's (mmpretrain) format, with identical predictions; see the weight
conversion guide of mmregnet's documentation. :mod:`.mapping` renames and
checks tensors (no I/O); :mod:`.cli` reads, converts in memory, writes and
reports (:mod:`mmregnet.weights` converts downloads with the same code).
Neither imports mmpretrain or mmdet."""
from .cli import convert_checkpoint, convert_file, fitting_configs, main
from .mapping import (SOURCES, Conversion, ConversionError, Source,
                      convert_state_dict, infer_arch, model_shapes,
                      publisher_of, unwrap_state_dict)

__all__ = [
    'SOURCES', 'Conversion', 'ConversionError', 'Source',
    'convert_checkpoint', 'convert_state_dict', 'convert_file',
    'fitting_configs', 'infer_arch', 'main', 'model_shapes', 'publisher_of',
    'unwrap_state_dict'
]
