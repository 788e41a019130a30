"""Model-zoo API: ``list_models``, ``get_model``, ``inference_model``.

Importing this module also makes mmregnet's models reachable from
mmpretrain's own ``list_models`` / ``get_model`` / ``inference_model`` as
``mmregnet.<name>`` (mmpretrain already owns the ``regnetx-*_in1k`` names).
"""
from .hub import (MMPRETRAIN_PREFIX, get_model, inference_model,
                  is_classifier, list_models, load_model_index,
                  register_in_mmpretrain)

register_in_mmpretrain()

__all__ = [
    'MMPRETRAIN_PREFIX', 'get_model', 'inference_model', 'is_classifier',
    'list_models', 'load_model_index', 'register_in_mmpretrain'
]
