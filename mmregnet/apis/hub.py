"""The model-zoo API on mmregnet's model index (:mod:`mmregnet.model_index`):
classifiers are built and run by mmpretrain, detectors by mmdet; pretrained
weights come through :mod:`mmregnet.weights` (``mmregnet://<name>``)."""
import copy
import logging
from pathlib import Path
from typing import Union

from mmengine.config import Config
from mmengine.registry import DefaultScope

from ..engine.config import check_detection_stack, read_config
from ..model_index import is_detector, lookup
from ..weights import SCHEME, fetch_hf, weights_of

HF_HUB = 'hf-hub:'


def model_config(model: Union[str, Path], cfg_options=None) -> Config:
    """The config of a model name or ``.py`` file, with ``cfg_options``
    (full-config keys, as ``tools/train.py`` and ``tools/test.py`` take
    them: ``model.backbone.deploy=True``) merged in.

    Raises:
        ValueError: an unknown name, a config file that is missing or
            does not parse (:class:`~mmregnet.engine.ConfigError`), or an
            option whose first part is not a key of the config (e.g.
            ``backbone.deploy``).
    """
    config = read_config(str(model) if str(model).endswith('.py') else
                         lookup(str(model)).config)
    for key in cfg_options or {}:
        if key.split('.')[0] not in config:
            raise ValueError(
                f'--cfg-options {key}: {key.split(".")[0]!r} is not a key '
                f'of the config; options are full-config keys, e.g. '
                f'model.{key}={cfg_options[key]}')
    config.merge_from_dict(dict(cfg_options or {}))
    return config


def _resolve(model: Union[str, Path, Config],
             pretrained: Union[bool, str, Path]):
    """(config, checkpoint or False) for a model name, config path or
    Config; ``pretrained=True`` takes the entry's weights as
    ``mmregnet://<name>``."""
    if isinstance(model, Config):
        config, name = model, None
    elif str(model).startswith(HF_HUB):
        config_path, checkpoint = fetch_hf(str(model)[len(HF_HUB):])
        config = read_config(config_path)
        if pretrained is True:
            return config, checkpoint
        return config, str(pretrained) if pretrained else False
    elif str(model).endswith('.py'):
        config, name = read_config(model), None
    else:
        meta = lookup(str(model))
        config, name = read_config(meta.config), meta.name
    if pretrained is not True:
        return config, str(pretrained) if pretrained else False
    if name is None:
        raise ValueError(
            f'{model!r} is not a name of the model index, so it has no '
            'published checkpoint: pass pretrained=False for random weights '
            'or pretrained=PATH.')
    weights_of(name)  # an entry without weights: an error naming others
    return config, SCHEME + name


def get_model(model: Union[str, Path, Config],
              pretrained: Union[bool, str, Path] = False,
              device=None,
              **kwargs):
    """Build a model by index name, config file or Config.

    Args:
        model: a name from :func:`list_models`, a ``.py`` config, a Config,
            or ``hf-hub:<owner>/<name>``: a transformers RegNet of the
            Hugging Face Hub (converted on first use and cached).
        pretrained: True for the entry's weights (published, or converted
            from the publisher's original on first use and cached; an error
            where there are none), a path, URL or ``mmregnet://<name>``, or
            False for random weights. A backbone-only checkpoint fills the
            backbone; the head stays freshly initialised (a warning says
            so).
        device: where to put the model.
        **kwargs: overrides of the ``model`` config, e.g.
            ``backbone=dict(out_indices=(0, 1, 2, 3))``.

    Checkpoints load exactly (:mod:`mmregnet.models.loading`): one that does
    not fit the model raises a ``CheckpointError`` naming the keys and the
    likely cause, as does a damaged file; a deploy-mode checkpoint builds
    the backbone in deploy mode, a backbone-only one fills the backbone and
    says in one line that the head stays freshly initialised. A config that
    is missing or does not parse is a :class:`~mmregnet.engine.ConfigError`
    (a ``ValueError``); a detector without mmdet or mmcv's compiled ops
    (mmcv-lite) a :class:`~mmregnet.engine.DetectionStackMissing`.
    """
    config, checkpoint = _resolve(model, pretrained)
    detector = is_detector(config)
    if detector:
        check_detection_stack('this config' if isinstance(model, Config)
                              else repr(str(model)))
        built = _build_detector(config, device, **kwargs)
    else:
        from mmpretrain.apis import get_model as build_classifier
        built = build_classifier(
            config, pretrained=False, device=device, **kwargs)
    if checkpoint:
        loaded = _load_weights(built, checkpoint, model)
        meta = loaded.get('meta', {})
        dataset_meta = meta.get('dataset_meta')
        if dataset_meta is None and 'CLASSES' in meta:  # mmcls / mmdet 2.x
            dataset_meta = {'classes': meta['CLASSES']}
        if dataset_meta is not None:  # a plain attribute in mmdet
            setattr(built, 'dataset_meta' if detector else '_dataset_meta',
                    dataset_meta)
    return built


def _load_weights(built, checkpoint: str, model) -> dict:
    """Load ``checkpoint`` into ``built`` strictly (a backbone-only one into
    its backbone, with one warning line); returns the checkpoint."""
    from mmengine.logging import print_log
    from mmengine.runner.checkpoint import (_load_checkpoint,
                                            _load_checkpoint_to_model)
    loaded = _load_checkpoint(checkpoint, map_location='cpu')
    backbone_only = (loaded.get('meta') or {}).get('backbone_only')
    try:
        if backbone_only:
            _load_checkpoint_to_model(
                built.backbone,
                loaded,
                strict=True,
                revise_keys=[(r'^backbone\.', '')])
            name = model.filename if isinstance(model, Config) else model
            print_log(
                f'{checkpoint} holds a backbone only: the head of {name} '
                'stays freshly initialised',
                logger='current',
                level=logging.WARNING)
        else:
            _load_checkpoint_to_model(built, loaded, strict=True)
    except RuntimeError as error:  # mmengine lists the keys
        raise ValueError(f'checkpoint {checkpoint} does not fit '
                         f'{model!r}:\n{error}') from None
    return loaded


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

    ``model`` is a built model (e.g. from :func:`get_model`), a name, a
    config or an int8 artifact (``.onnx``, tools/deployment/quantize.py).
    A classifier returns one dict per image with ``pred_label``,
    ``pred_score``, ``pred_class`` (when the model knows class names) and
    ``pred_scores``; a detector one mmdet ``DetDataSample`` per image
    (``pred_instances`` with ``bboxes``, ``scores``, ``labels`` and, for
    instance segmentation, ``masks``). A single image gives a single
    result. ``batch_size`` batches a classifier's images (mmdet's
    ``inference_detector`` runs them one by one).
    """
    from mmengine.model import BaseModel

    from ..deploy.int8_runtime import ARTIFACT_EXT, Int8Classifier
    if isinstance(model, (str, Path)) and str(model).endswith(ARTIFACT_EXT):
        artifact, model = model, Int8Classifier(str(model))
        if not model.runtime.metadata.get('test_pipeline'):
            raise ValueError(
                f'{artifact} carries no test pipeline, which the inference '
                'API needs to read images: write it with '
                'tools/deployment/quantize.py, or with Int8Model.save(path, '
                'test_pipeline=[...], data_preprocessor=dict(...))')
    elif not isinstance(model, BaseModel):
        model = get_model(model, pretrained=pretrained, device=device)
    # each host's transforms live in its own registry scope; a detector
    # built earlier in the process must not leave 'mmdet' as the scope
    if is_detector(model):
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
