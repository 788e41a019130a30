"""mmregnet's classifiers in mmpretrain's ModelHub, as ``mmregnet.<name>``
(:func:`register_in_mmpretrain`, called by ``import mmregnet.apis``)."""
import copy
import importlib.metadata
import re
from typing import List, Optional

from ..model_index import HUB_PREFIX, is_classifier, load_model_index

#: the first transformers whose import breaks mmpretrain 1.2.0's multimodal
#: models (4.53.3: ImportError GenerationMixin; 4.57, 5.x: TypeError)
FIRST_CLASHING_TRANSFORMERS = (4, 53)


def _version(package: str) -> Optional[str]:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _clashing_transformers() -> Optional[str]:
    """The installed transformers version where mmpretrain imports its
    multimodal models (transformers >= 4.28 and pycocotools installed) and
    that transformers is one they fail with; else None."""
    version = _version('transformers')
    release = tuple(
        int(part) for part in re.findall(r'\d+', version or '')[:2])
    if version and _version('pycocotools') and \
            release >= FIRST_CLASHING_TRANSFORMERS:
        return version
    return None


def import_model_hub():
    """mmpretrain's ModelHub, its models importable; where transformers
    >= 4.53 breaks mmpretrain's models, an ImportError of one line naming
    both versions and the fix (not mmpretrain's traceback)."""
    try:
        from mmpretrain.apis.model import ModelHub
        if _clashing_transformers():  # only there: the import is not free
            import mmpretrain.models  # noqa: F401
    except (ImportError, TypeError) as error:
        version = _clashing_transformers()
        if not version:
            raise
        raise ImportError(
            f"mmpretrain {_version('mmpretrain')} cannot be imported beside "
            f'transformers {version} ({type(error).__name__} in its '
            'multimodal models, which it imports whenever transformers >= '
            '4.28 and pycocotools are installed): pip install '
            '"transformers>=4.28,<4.53" (4.51.3 is verified), or keep '
            'transformers in another environment (mmregnet converts to and '
            'from transformers without it)') from None
    return ModelHub


def register_in_mmpretrain() -> List[str]:
    """Add mmregnet's models to mmpretrain's ModelHub as ``mmregnet.<name>``.

    mmpretrain registers its own index lazily and raises on a name it already
    holds; its index is therefore loaded first, and ours goes under a prefix
    of its own, so neither side can clash. Only the classifiers go there
    (mmpretrain cannot build detectors). Idempotent; returns the names.
    """
    ModelHub = import_model_hub()
    ModelHub._register_mmpretrain_models()
    names = []
    for name, meta in load_model_index().items():
        if not is_classifier(meta):
            continue
        hub_name = HUB_PREFIX + name
        if hub_name not in ModelHub._models_dict:
            entry = copy.deepcopy(meta)
            entry.name = hub_name
            ModelHub._models_dict[hub_name] = entry
        names.append(hub_name)
    return names
