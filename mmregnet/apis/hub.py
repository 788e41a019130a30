"""mmregnet's model index (``model-index.yml`` -> the metafiles) and the
model-zoo API on top of mmpretrain's (classifiers) and mmdet's (detectors)
model building and inference."""
import copy
import difflib
import fnmatch
import functools
from pathlib import Path
from typing import Dict, List, Union

from mmengine.config import Config
from mmengine.registry import DefaultScope
from modelindex.load_model_index import load
from modelindex.models.Model import Model

PACKAGE_DIR = Path(__file__).resolve().parents[1]
MMPRETRAIN_PREFIX = 'mmregnet.'


def _index_root() -> Path:
    """The source checkout (editable install), else ``mmregnet/.mim``."""
    checkout = PACKAGE_DIR.parent
    if (checkout / 'model-index.yml').exists():
        return checkout
    return PACKAGE_DIR / '.mim'


@functools.lru_cache()
def load_model_index() -> Dict[str, Model]:
    """All models of mmregnet's index by lower-case name, with absolute
    config paths."""
    root = _index_root()
    index = load(str(root / 'model-index.yml'))
    index.build_models_with_collections()
    models = {}
    for model in index.models:
        model.config = str(root / model.config)
        models[model.name.lower()] = model
    return models


def is_classifier(meta: Model) -> bool:
    """Whether an index entry is an ImageNet classifier (not a detector)."""
    return any(result.task == 'Image Classification'
               for result in meta.results)


def list_models(pattern: str = '*') -> List[str]:
    """Names of mmregnet's models matching a shell-style ``pattern``."""
    return sorted(
        fnmatch.filter(load_model_index(), pattern.lower()))


def _lookup(name: str) -> Model:
    models = load_model_index()
    key = name.lower()
    if key.startswith(MMPRETRAIN_PREFIX):
        key = key[len(MMPRETRAIN_PREFIX):]
    if key in models:
        return models[key]
    close = difflib.get_close_matches(key, models, n=5, cutoff=0.5)
    hint = f' Close matches: {", ".join(close)}.' if close else ''
    raise ValueError(f'Unknown model {name!r}.{hint} '
                     'mmregnet.list_models() lists all names.')


def _is_detector(model) -> bool:
    """Whether a built model is an mmdet detector."""
    return type(model).__module__.startswith('mmdet.')


def _resolve(model: Union[str, Path, Config],
             pretrained: Union[bool, str, Path]):
    """(config, checkpoint or False) for a model name, config path or
    Config."""
    original = None  # the third-party file a converted entry comes from
    if isinstance(model, Config):
        config, weights = model, None
    elif str(model).endswith('.py'):
        config, weights = Config.fromfile(str(model)), None
    else:
        meta = _lookup(str(model))
        config, weights = Config.fromfile(meta.config), meta.weights
        original = (meta.data.get('Converted From') or {}).get('Weights')
    if pretrained is True:
        if not weights:
            hint = (f' Convert the original ({original}) with '
                    'tools/model_converters/ and pass pretrained=PATH.'
                    if original else '')
            raise ValueError(
                f'{model!r} has no published checkpoint: pass '
                'pretrained=False for random weights or pretrained=PATH.' +
                hint)
        return config, weights
    return config, str(pretrained) if pretrained else False


def get_model(model: Union[str, Path, Config],
              pretrained: Union[bool, str, Path] = False,
              device=None,
              **kwargs):
    """Build a model by index name, config file or Config.

    Args:
        model: a name from :func:`list_models`, a ``.py`` config or a Config.
        pretrained: True for the published checkpoint (an error where there
            is none), a path or URL, or False for random weights.
        device: where to put the model.
        **kwargs: overrides of the ``model`` config, e.g.
            ``backbone=dict(out_indices=(0, 1, 2, 3))``.

    Checkpoints load strictly: one whose keys do not fit the model raises a
    ``ValueError`` naming the missing and unexpected keys.
    """
    from mmengine.runner import load_checkpoint
    config, checkpoint = _resolve(model, pretrained)
    detector = config.get('default_scope') == 'mmdet'
    if detector:
        built = _build_detector(config, device, **kwargs)
    else:
        from mmpretrain.apis import get_model as build_classifier
        built = build_classifier(
            config, pretrained=False, device=device, **kwargs)
    if checkpoint:
        try:
            loaded = load_checkpoint(
                built, checkpoint, map_location='cpu', strict=True)
        except RuntimeError as error:  # mmengine lists the keys
            raise ValueError(f'checkpoint {checkpoint} does not fit '
                             f'{model!r}:\n{error}') from None
        meta = loaded.get('meta', {})
        dataset_meta = meta.get('dataset_meta')
        if dataset_meta is None and 'CLASSES' in meta:  # mmcls / mmdet 2.x
            dataset_meta = {'classes': meta['CLASSES']}
        if dataset_meta is not None:  # a plain attribute in mmdet
            setattr(built, 'dataset_meta' if detector else '_dataset_meta',
                    dataset_meta)
    return built


def _build_detector(config: Config, device=None, **kwargs):
    """An mmdet detector from ``config`` (``**kwargs`` override its
    ``model``), in eval mode, with the config attached as ``model.cfg``."""
    from mmdet.apis import init_detector
    config = copy.deepcopy(config)
    config.merge_from_dict(dict(model=kwargs))
    return init_detector(config, checkpoint=None, device=device or 'cpu')


def inference_model(model, images, pretrained: Union[bool, str] = True,
                    device=None, batch_size: int = 1):
    """Classify, or detect objects in, one image or a list of images (paths
    or HxWx3 BGR arrays).

    ``model`` is a built model (e.g. from :func:`get_model`), a name or a
    config. A classifier returns one dict per image with ``pred_label``,
    ``pred_score``, ``pred_class`` (when the model knows class names) and
    ``pred_scores``; a detector one mmdet ``DetDataSample`` per image
    (``pred_instances`` with ``bboxes``, ``scores``, ``labels`` and, for
    instance segmentation, ``masks``). A single image gives a single
    result. ``batch_size`` batches a classifier's images (mmdet's
    ``inference_detector`` runs them one by one).
    """
    from mmengine.model import BaseModel
    if not isinstance(model, BaseModel):
        model = get_model(model, pretrained=pretrained, device=device)
    # each host's transforms live in its own registry scope; a detector
    # built earlier in the process must not leave 'mmdet' as the scope
    if _is_detector(model):
        from mmdet.apis import inference_detector
        with DefaultScope.overwrite_default_scope('mmdet'):
            return inference_detector(model, images)
    from mmpretrain.apis import ImageClassificationInferencer
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        inferencer = ImageClassificationInferencer(model, device=device)
        single = not isinstance(images, (list, tuple))
        results = inferencer(
            [images] if single else list(images), batch_size=batch_size)
    return results[0] if single else results


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
