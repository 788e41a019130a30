"""mmregnet's classifiers in mmpretrain's ModelHub, as ``mmregnet.<name>``
(:func:`register_in_mmpretrain`, called by ``import mmregnet.apis``)."""
import copy
from typing import List

from ..model_index import HUB_PREFIX, is_classifier, load_model_index

MMPRETRAIN_PREFIX = HUB_PREFIX


def register_in_mmpretrain() -> List[str]:
    """Add mmregnet's models to mmpretrain's ModelHub as ``mmregnet.<name>``.

    mmpretrain registers its own index lazily and raises on a name it already
    holds; its index is therefore loaded first, and ours goes under a prefix
    of its own, so neither side can clash. Only the classifiers go there
    (mmpretrain cannot build detectors). Idempotent; returns the names.
    """
    from mmpretrain.apis.model import ModelHub
    ModelHub._register_mmpretrain_models()
    names = []
    for name, meta in load_model_index().items():
        if not is_classifier(meta):
            continue
        hub_name = MMPRETRAIN_PREFIX + name
        if hub_name not in ModelHub._models_dict:
            entry = copy.deepcopy(meta)
            entry.name = hub_name
            ModelHub._models_dict[hub_name] = entry
        names.append(hub_name)
    return names
