"""Model-zoo API: ``list_models``, ``get_model``, ``inference_model``.

Importing this module also makes mmregnet's models reachable from
mmpretrain's own ``list_models`` / ``get_model`` / ``inference_model`` as
``mmregnet.<name>`` (mmpretrain already owns the ``regnetx-*_in1k`` names).
"""
from ..model_index import (HUB_PREFIX, is_classifier, is_detector, list_models,
                           load_model_index)
from .hub import get_model, inference_model, model_config
from .mmpretrain_hub import register_in_mmpretrain

register_in_mmpretrain()

__all__ = [
    'HUB_PREFIX', 'get_model', 'inference_model', 'is_classifier',
    'is_detector', 'list_models', 'load_model_index', 'model_config',
    'register_in_mmpretrain'
]
