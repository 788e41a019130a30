"""Hugging Face transformers RegNets, both ways, without transformers.

Import: a ``save_pretrained`` folder (``config.json``, ``model.safetensors``
or ``pytorch_model.bin``, sharded or not, ``preprocessor_config.json``) or a
Hub repo (fetched with ``huggingface_hub``, so ``HF_ENDPOINT``,
``HF_HUB_OFFLINE`` and ``HF_HOME`` apply) becomes an mmregnet checkpoint and
a ready mmpretrain config (:func:`convert_hf`). Export: an mmregnet config and
checkpoint become such a folder (:func:`export_hf`), a
``RegNetForImageClassification`` or, without a head, a ``RegNetModel``.

transformers' RegNet (transformers/models/regnet) is ours with bottleneck
ratio 1, one group width ``G`` (a stage of width ``w`` has ``max(1, w // G)``
groups), squeeze-excitation of ratio 1/4 of the block input (Y) or none (X),
stride 2 in every stage, BatchNorm and one activation. Anything else is
refused with a message naming the field; nothing is written then.
"""
import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

import torch

from ..design import (NAMED_ARCHS, ROUNDING_MODES, AnyNetParams, StageSpec,
                      resolve_arch, stage_specs)
from ..fileio import (CheckpointError, atomic_torch_save, atomic_write,
                      read_checkpoint)
from ..model_index import HF_HUB_SCHEME, _index_root
from .cli import checkpoint_payload, imagenet_classes, report_backbone_only
from .mapping import (SOURCES, Arch, Conversion, ConversionError,
                      arch_signature, convert_state_dict, model_shapes)

SOURCE = SOURCES['transformers']
HUB_SCHEME = HF_HUB_SCHEME
CONFIG_FILE = 'config.json'
PREPROCESSOR_FILE = 'preprocessor_config.json'
SAFETENSORS_FILE = 'model.safetensors'
#: weight files in the order transformers prefers them
WEIGHT_FILES = (SAFETENSORS_FILE, 'model.safetensors.index.json',
                'pytorch_model.bin', 'pytorch_model.bin.index.json')
#: PIL's resampling filters (transformers' ``resample``) and mmcv's names
RESAMPLE = {0: 'nearest', 2: 'bilinear', 3: 'bicubic'}
_PREFIX = 'regnet.'  # RegNetForImageClassification's RegNetModel
_NORMS = ('BN', 'BN2d', 'SyncBN')


class HFModel(NamedTuple):
    """A transformers RegNet as saved: its config, tensors (under
    RegNetForImageClassification's names), preprocessing and origin."""
    config: dict
    state_dict: Dict[str, torch.Tensor]
    preprocessor: dict
    origin: str


# import ---------------------------------------------------------------------
def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ConversionError(f'cannot read {path}: {error}') from None


def _read_weights(folder: Path) -> Dict[str, torch.Tensor]:
    for name in WEIGHT_FILES:
        path = folder / name
        if not path.is_file():
            continue
        if not name.endswith('.index.json'):
            return dict(read_checkpoint(str(path)))
        shards = sorted(set(_read_json(path).get('weight_map', {}).values()))
        state_dict = {}
        for shard in shards:
            state_dict.update(read_checkpoint(str(folder / shard)))
        return state_dict
    raise ConversionError(f'no weights in {folder}: expected one of '
                          f'{", ".join(WEIGHT_FILES)}')


def read_hf_folder(folder) -> HFModel:
    """The transformers RegNet that ``save_pretrained`` wrote to ``folder``
    (a bare ``RegNetModel``'s keys get the ``regnet.`` prefix)."""
    folder = Path(folder)
    if not (folder / CONFIG_FILE).is_file():
        raise ConversionError(f'no {CONFIG_FILE} in {folder}: expected a '
                              'folder written by save_pretrained or a Hub '
                              'repo id')
    config = _read_json(folder / CONFIG_FILE)
    state_dict = _read_weights(folder)
    if not any(key.startswith(_PREFIX) for key in state_dict):
        state_dict = {_PREFIX + key: tensor
                      for key, tensor in state_dict.items()}
    preprocessor = _read_json(folder / PREPROCESSOR_FILE) if \
        (folder / PREPROCESSOR_FILE).is_file() else {}
    return HFModel(config, state_dict, preprocessor, str(folder))


class HubUnreachable(ConversionError):
    """A Hub repo's file that can be neither downloaded nor read from the
    Hugging Face cache."""


def fetch_hf_repo(repo_id: str, revision: Optional[str] = None) -> Path:
    """The local snapshot folder of the Hub repo ``repo_id``: its config,
    preprocessing and weights (the first of :data:`WEIGHT_FILES` it has),
    downloaded with ``huggingface_hub`` into its cache."""
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError
    except ImportError:
        raise ConversionError('reading a Hub repo needs huggingface_hub: pip '
                              'install "mmregnet[hf]"') from None

    def download(name: str) -> Optional[Path]:
        try:
            return Path(hf_hub_download(repo_id, name, revision=revision))
        except EntryNotFoundError:  # not in the repo, or offline not cached
            return None
        except Exception as error:  # noqa: B902 (the hub's many errors)
            reason = str(error).strip().splitlines()[0]
            raise HubUnreachable(f'cannot fetch {name} of the Hub repo '
                                 f'{repo_id}: {reason}') from None

    config = download(CONFIG_FILE)
    if config is None:
        raise HubUnreachable(f'the Hub repo {repo_id} has no {CONFIG_FILE}, '
                             'or none is reachable (offline and not cached)')
    download(PREPROCESSOR_FILE)
    for name in WEIGHT_FILES:
        index = download(name)
        if index is None:
            continue
        if name.endswith('.index.json'):
            for shard in sorted(
                    set(_read_json(index).get('weight_map', {}).values())):
                download(shard)
        return config.parent
    raise ConversionError(f'the Hub repo {repo_id} has none of '
                          f'{", ".join(WEIGHT_FILES)}')


def _expect(config: dict, field: str, accepted, default) -> None:
    value = config.get(field, default)
    if value not in accepted:
        raise ConversionError(
            f'config.json {field}={value!r} is not supported: mmregnet '
            f'converts {" or ".join(map(repr, accepted))}')


def arch_of_config(config: dict) -> Tuple[Arch, int]:
    """(arch, stem width) of a transformers RegNetConfig (as a dict): the
    published name whose stages it has (with a 32-wide stem), else explicit
    stages."""
    _expect(config, 'model_type', ('regnet', ), None)
    _expect(config, 'layer_type', ('x', 'y'), 'y')
    _expect(config, 'hidden_act', ('relu', ), 'relu')
    _expect(config, 'num_channels', (3, ), 3)
    _expect(config, 'downsample_in_first_stage', (True, ), True)
    widths = list(config.get('hidden_sizes', [128, 192, 512, 1088]))
    group_w = config.get('groups_width', 64)
    groups = [max(1, width // group_w) for width in widths]
    try:
        arch = AnyNetParams(
            depths=tuple(config.get('depths', [2, 6, 12, 2])),
            widths=tuple(widths),
            group_widths=tuple(w // g for w, g in zip(widths, groups)),
            se_ratio=0.25 if config.get('layer_type', 'y') == 'y' else 0.0)
    except (TypeError, ValueError) as error:  # transformers cannot build it
        raise ConversionError(
            f'config.json hidden_sizes={widths}, groups_width={group_w}, '
            f"depths={config.get('depths')}: {error}") from None
    stem_channels = config.get('embedding_size', 32)
    signature = arch_signature(arch, ROUNDING_MODES[0])
    if stem_channels == 32:
        for name in NAMED_ARCHS:
            if any(
                    arch_signature(name, rounding) == signature
                    for rounding in ROUNDING_MODES):
                return name, stem_channels
    return arch, stem_channels


def labels_of(config: dict) -> List[str]:
    """Class names in index order, from ``id2label``."""
    id2label = config.get('id2label') or {}
    return [id2label[key] for key in sorted(id2label, key=int)]


def _preprocessing(preprocessor: dict) -> dict:
    """mean, std (0-255 RGB), resize, crop and interpolation of a
    transformers image processor (ConvNextImageProcessor: the short side
    resized to ``shortest_edge / crop_pct``, then a centre crop)."""
    # pixels are rescaled (by 1/255) before normalisation
    scale = 1 / preprocessor.get('rescale_factor', 1 / 255) if \
        preprocessor.get('do_rescale', True) else 1
    size = preprocessor.get('size') or {}
    crop = size.get('shortest_edge') or size.get('height') or 224
    crop_pct = preprocessor.get('crop_pct') or 224 / 256
    return dict(
        mean=[m * scale for m in preprocessor.get('image_mean', (
            0.485, 0.456, 0.406))],
        std=[s * scale for s in preprocessor.get('image_std', (
            0.229, 0.224, 0.225))],
        resize=int(crop / crop_pct),
        crop=crop,
        interpolation=RESAMPLE.get(preprocessor.get('resample', 3),
                                   'bicubic'))


def _resize_and_crop(preprocessing: dict, resize: dict) -> list:
    """ConvNextImageProcessor's resize as mmpretrain transforms: below 384
    the short side to ``crop / crop_pct`` and a centre crop, from 384 a
    square resize (no crop)."""
    crop, interpolation = preprocessing['crop'], preprocessing['interpolation']
    if crop >= 384:
        return [
            dict(
                type='Resize',
                scale=(crop, crop),
                backend='pillow',
                interpolation=interpolation)
        ]
    return [
        dict(resize, scale=preprocessing['resize'],
             interpolation=interpolation),
        dict(type='CenterCrop', crop_size=crop)
    ]


def mmpretrain_config(conversion: Conversion, classes: List[str],
                      preprocessing: dict):
    """The ready mmpretrain config of a converted model: the converted
    weights' base (RGB input, Pillow decoding) with this model's arch, head,
    normalisation and test resize and crop."""
    from mmengine.config import Config
    config = Config.fromfile(
        str(_index_root() / 'configs/converted/_base_/rgb_in1k.py'))
    num_classes = len(classes) if classes else 1000
    topk = (1, 5) if num_classes >= 5 else (1, )
    stages = stage_specs(
        resolve_arch(conversion.arch), rounding=conversion.width_rounding)
    backbone = dict(width_rounding=conversion.width_rounding)
    if conversion.stem_channels != 32:
        backbone['stem_channels'] = conversion.stem_channels
    test_pipeline = [
        config.load_image, *_resize_and_crop(preprocessing, config.resize),
        config.pack_inputs
    ]
    dataset = dict(pipeline=test_pipeline)
    if classes and num_classes != 1000:
        dataset['classes'] = classes
    config.merge_from_dict(
        dict(
            model=dict(
                backbone=backbone,
                head=dict(
                    num_classes=num_classes,
                    in_channels=stages[-1].width,
                    topk=topk)),
            data_preprocessor=dict(
                num_classes=num_classes,
                mean=preprocessing['mean'],
                std=preprocessing['std']),
            test_pipeline=test_pipeline,
            val_dataloader=dict(dataset=dataset),
            test_dataloader=dict(dataset=dataset),
            val_evaluator=dict(topk=topk),
            test_evaluator=dict(topk=topk)))
    config.model.backbone.arch = conversion.arch_config  # a name or a dict
    return config


def convert_hf_model(model: HFModel) -> Tuple[Conversion, dict, object]:
    """(conversion, mmregnet checkpoint, mmpretrain config) of a read
    transformers RegNet."""
    arch, stem_channels = arch_of_config(model.config)
    conversion = convert_state_dict(model.state_dict, SOURCE, arch,
                                    stem_channels)
    classes = labels_of(model.config) if not conversion.backbone_only else []
    if classes and len(classes) != conversion.num_classes:
        raise ConversionError(
            f'config.json id2label has {len(classes)} labels, the classifier '
            f'{conversion.num_classes} outputs')
    preprocessing = _preprocessing(model.preprocessor)
    checkpoint = checkpoint_payload(conversion, SOURCE, model.origin)
    meta = checkpoint['meta']
    meta['input'].update(mean=preprocessing['mean'], std=preprocessing['std'])
    if classes:
        meta['dataset_meta'] = dict(classes=classes)
    return conversion, checkpoint, mmpretrain_config(conversion, classes,
                                                     preprocessing)


def read_hf(src) -> HFModel:
    """A transformers RegNet from a folder or a Hub repo id (optionally
    ``hf-hub:``-prefixed, ``@revision``-suffixed)."""
    src = os.fspath(src)
    if os.path.isdir(src):
        return read_hf_folder(src)
    repo_id = src[len(HUB_SCHEME):] if src.startswith(HUB_SCHEME) else src
    repo_id, _, revision = repo_id.partition('@')
    if repo_id.count('/') != 1 or os.path.exists(src):
        raise ConversionError(
            f'{src} is neither a folder written by save_pretrained nor a Hub '
            'repo id (<owner>/<name>)')
    model = read_hf_folder(fetch_hf_repo(repo_id, revision or None))
    return model._replace(origin=f'{HUB_SCHEME}{repo_id}' +
                          (f'@{revision}' if revision else ''))


def write_converted(checkpoint: dict, config, dst) -> str:
    """Write the checkpoint to ``dst`` and its config beside it (same stem,
    ``.py``), each atomically; returns the config's path."""
    dst = Path(dst)
    config_path = dst.with_suffix('.py')
    text = config.pretty_text
    atomic_torch_save(checkpoint, dst)
    atomic_write(text, config_path)
    return str(config_path)


def convert_hf(src, dst) -> Tuple[Conversion, str]:
    """Convert the transformers RegNet ``src`` (folder or Hub repo id) to the
    mmregnet checkpoint ``dst`` and its config ``dst`` with ``.py``; returns
    the conversion and the config's path. On any error nothing is
    written."""
    if Path(dst).suffix == '.py':
        raise ConversionError(f'{dst}: the checkpoint needs another suffix '
                              'than .py (its config is written beside it)')
    conversion, checkpoint, config = convert_hf_model(read_hf(src))
    return conversion, write_converted(checkpoint, config, dst)


# export ---------------------------------------------------------------------
class Unsupported(ConversionError):
    """A model that transformers' RegNet cannot express."""


def _groups_width(stages: Tuple[StageSpec, ...]) -> int:
    """The one group width ``G`` with ``max(1, w // G)`` groups in every
    stage of width ``w``."""
    for group_w in sorted({stage.group_w for stage in stages}, reverse=True):
        if all(stage.groups == max(1, stage.width // group_w)
               for stage in stages):
            return group_w
    raise Unsupported(
        'model.backbone.arch: group widths '
        f'{[stage.group_w for stage in stages]} (stage widths '
        f'{[stage.width for stage in stages]}) differ by stage; transformers '
        "has one groups_width for all stages")


def hf_config(backbone: dict) -> dict:
    """transformers' RegNetConfig fields of an mmregnet backbone config,
    or :class:`Unsupported` naming the field it cannot express."""
    arch = resolve_arch(backbone['arch'])
    stages = stage_specs(arch, rounding=backbone.get('width_rounding',
                                                     'pycls'))
    for index, stage in enumerate(stages):
        if stage.bot_mul != 1:
            raise Unsupported(
                f'model.backbone.arch: bottleneck ratio bot_mul='
                f'{stage.bot_mul} (stage {index + 1}); transformers has 1')
    if arch.se_ratio not in (0, 0.25):
        raise Unsupported(f'model.backbone.arch: se_ratio={arch.se_ratio}; '
                          'transformers has 0.25 (Y) or none (X)')
    for field, default in (('strides', 2), ('dilations', 1)):
        value = backbone.get(field)
        if value is not None and tuple(value) != (default, ) * len(stages):
            raise Unsupported(
                f'model.backbone.{field}={list(value)}; transformers has '
                f'{field} of {default} in every stage')
    for field, accepted in (('norm_cfg', _NORMS), ('act_cfg', ('ReLU', ))):
        kind = (backbone.get(field) or {}).get('type', accepted[0])
        if kind not in accepted:
            raise Unsupported(f"model.backbone.{field} type='{kind}'; "
                              f'transformers has {" or ".join(accepted)}')
    return dict(
        model_type='regnet',
        num_channels=backbone.get('in_channels', 3),
        embedding_size=backbone.get('stem_channels', 32),
        hidden_sizes=[stage.width for stage in stages],
        depths=[stage.depth for stage in stages],
        groups_width=_groups_width(stages),
        layer_type='y' if arch.se_ratio else 'x',
        hidden_act='relu',
        downsample_in_first_stage=True)


@lru_cache(maxsize=None)
def _their_names(layer_type: str) -> Dict[str, str]:
    """Our module -> transformers', for X or Y layers (whose last 1x1 is
    ``layer.2`` or ``layer.3``)."""
    names = {ours: theirs for theirs, ours in SOURCE.modules.items()}
    other_last = 'layer.3.' if layer_type == 'x' else 'layer.2.'
    for theirs, ours in SOURCE.block_modules.items():
        if not (theirs + '.').startswith(other_last) or 'attention' in theirs:
            names[ours] = theirs
    return names


def _their_key(ours: str, layer_type: str) -> str:
    """transformers' name of our key ``backbone.*`` / ``head.fc.*``."""
    names = _their_names(layer_type)
    module, param = ours.rsplit('.', 1)
    if module in names:
        return f'{names[module]}.{param}'
    _, layer, index, block_module = module.split('.', 3)
    stage = int(layer[len('layer'):]) - 1
    return (f'{_PREFIX}encoder.stages.{stage}.layers.{index}.'
            f'{names[block_module]}.{param}')


def _find(pipeline, kind: str) -> dict:
    return next((step for step in pipeline or ()
                 if step.get('type') == kind), {})


def _hf_preprocessor(config, bgr: bool, mean, std) -> dict:
    pipeline = config.get('test_pipeline') or config.get(
        'test_dataloader', {}).get('dataset', {}).get('pipeline')
    crop = _find(pipeline, 'CenterCrop').get('crop_size', 224)
    resize = _find(pipeline, 'ResizeEdge').get('scale', 256)
    interpolation = _find(pipeline, 'ResizeEdge').get(
        'interpolation', 'bilinear')
    crop_pct = crop / resize
    while int(crop / crop_pct) < resize:  # transformers floors crop/crop_pct
        crop_pct = math.nextafter(crop_pct, 0)
    order = slice(None, None, -1) if bgr else slice(None)
    return dict(
        image_processor_type='ConvNextImageProcessor',
        do_resize=True,
        size=dict(shortest_edge=crop),
        crop_pct=crop_pct,
        resample={v: k
                  for k, v in RESAMPLE.items()}.get(interpolation, 2),
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=[m / 255 for m in list(mean)[order]],
        image_std=[s / 255 for s in list(std)[order]])


def _classes(config, meta: dict, num_classes: int) -> List[str]:
    """The config's class names (its test dataset's ``classes``), else the
    checkpoint's, else ImageNet's for 1000 classes, else ``LABEL_i``."""
    dataset = config.get('test_dataloader', {}).get('dataset', {})
    for classes in (dataset.get('classes'),
                    (dataset.get('metainfo') or {}).get('classes'),
                    (meta.get('dataset_meta') or {}).get('classes')):
        if classes:
            if len(classes) != num_classes:
                raise ConversionError(
                    f'{len(classes)} class names for a head of {num_classes} '
                    'classes')
            return list(classes)
    if num_classes == 1000:
        return imagenet_classes()
    return [f'LABEL_{i}' for i in range(num_classes)]


def _move_into(tmp: str, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in os.listdir(tmp):
        os.replace(os.path.join(tmp, name), out_dir / name)


def export_hf(config, checkpoint, out_dir) -> dict:
    """Write the mmregnet model of ``config`` (path or Config) with the
    weights of ``checkpoint`` to ``out_dir`` as transformers'
    ``save_pretrained`` does (config.json, model.safetensors,
    preprocessor_config.json); returns the written RegNetConfig dict.

    A classifier with a linear head exports as
    ``RegNetForImageClassification`` with the config's class names, a
    backbone-only checkpoint or a detector as ``RegNetModel``; BGR weights
    get their stem convolution's input channels reversed (transformers feeds
    RGB).
    """
    from mmengine.config import Config
    from safetensors.torch import save_file
    if not isinstance(config, Config):
        config = Config.fromfile(str(config))
    model_cfg = config.model
    backbone = model_cfg.get('backbone') or {}
    if not str(backbone.get('type', '')).endswith('RegNet'):
        raise Unsupported(f"model.backbone type={backbone.get('type')!r}: "
                          'not an mmregnet RegNet')
    fields = hf_config(backbone)
    loaded = read_checkpoint(str(checkpoint))
    if not isinstance(loaded, dict):
        raise ConversionError(f'{checkpoint} holds a '
                              f'{type(loaded).__name__}, not a state dict')
    meta = loaded.get('meta') or {}
    state_dict = loaded.get('state_dict', loaded)
    head = model_cfg.get('head') or {}
    classify = 'head.fc.weight' in state_dict and \
        model_cfg.get('type') == 'ImageClassifier'
    if classify and (head.get('type') != 'LinearClsHead' or
                     (model_cfg.get('neck') or {}).get('type') !=
                     'GlobalAveragePooling'):
        raise Unsupported(
            f"model.head type={head.get('type')!r} after neck "
            f"{(model_cfg.get('neck') or {}).get('type')!r}: transformers "
            'has a linear head after global average pooling')
    num_classes = state_dict['head.fc.weight'].shape[0] if classify else 0
    arch = resolve_arch(backbone['arch'])
    shapes = model_shapes(arch, backbone.get('width_rounding', 'pycls'),
                          num_classes, fields['embedding_size'])
    ours = {key: state_dict.get(key) for key in shapes}
    missing = [key for key, value in ours.items() if value is None]
    wrong = [
        key for key, value in ours.items()
        if value is not None and value.shape != shapes[key]
    ]
    if missing or wrong:
        raise ConversionError(
            f'{checkpoint} does not fit the config\'s model: '
            f'{len(missing)} keys missing ({", ".join(missing[:3])}), '
            f'{len(wrong)} of the wrong shape ({", ".join(wrong[:3])})')
    preprocessor_cfg = config.get('data_preprocessor') or \
        model_cfg.get('data_preprocessor') or {}
    bgr = not (preprocessor_cfg.get('to_rgb') or
               preprocessor_cfg.get('bgr_to_rgb'))
    tensors = {}
    for key, value in ours.items():
        value = value.detach().to('cpu').contiguous().clone()
        if key == 'backbone.conv1.weight' and bgr:
            value = value.flip(1).contiguous()
        name = _their_key(key, fields['layer_type'])
        tensors[name if classify else name[len(_PREFIX):]] = value
    if classify:
        classes = _classes(config, meta, num_classes)
        fields.update(
            architectures=['RegNetForImageClassification'],
            id2label={str(i): name
                      for i, name in enumerate(classes)},
            label2id={name: i
                      for i, name in enumerate(classes)})
    else:
        fields['architectures'] = ['RegNetModel']
    fields['torch_dtype'] = 'float32'
    preprocessor = _hf_preprocessor(
        config, bgr, preprocessor_cfg.get('mean', (123.675, 116.28, 103.53)),
        preprocessor_cfg.get('std', (58.395, 57.12, 57.375)))
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=out_dir.parent, prefix=f'.{out_dir.name}.')
    try:
        save_file(
            tensors, os.path.join(tmp, SAFETENSORS_FILE),
            metadata={'format': 'pt'})
        for name, data in ((CONFIG_FILE, fields), (PREPROCESSOR_FILE,
                                                   preprocessor)):
            with open(os.path.join(tmp, name), 'w') as file:
                json.dump(data, file, indent=2)
        _move_into(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return fields


# command lines ---------------------------------------------------------------
def _run(action, dst):
    """``action()``'s result, or None after the one-line error."""
    try:
        return action()
    except (ConversionError, CheckpointError) as error:
        print(f'error: {error}\nnothing written to {dst}', file=sys.stderr)
        return None


def import_main(argv=None) -> int:
    """``tools/model_converters/hf2mmregnet.py SRC DST``."""
    parser = argparse.ArgumentParser(
        prog=SOURCE.tool,
        description='Convert a Hugging Face transformers RegNet (a folder '
        'written by save_pretrained, or a Hub repo id) into an mmregnet '
        'checkpoint DST and its mmpretrain config (DST with .py) '
        '(docs/weight_conversion.md).')
    parser.add_argument('src', help='folder or Hub repo id (owner/name)')
    parser.add_argument('dst', help='mmregnet checkpoint to write')
    args = parser.parse_args(argv)
    done = _run(lambda: convert_hf(args.src, args.dst), args.dst)
    if done is None:
        return 1
    conversion, config = done
    arch = conversion.arch if isinstance(conversion.arch, str) else \
        f'explicit stages {conversion.arch_config}'
    print(f'{args.src}: transformers {arch}, '
          f'{conversion.num_classes or "no"} classes')
    if conversion.backbone_only:
        report_backbone_only(args.dst)
    print(f'wrote {args.dst}\nwrote {config} (tools/test.py {config} '
          f'{args.dst})')
    return 0


def export_main(argv=None) -> int:
    """``tools/model_converters/mmregnet2hf.py CONFIG CHECKPOINT OUT_DIR``."""
    parser = argparse.ArgumentParser(
        prog='mmregnet2hf.py',
        description='Write an mmregnet RegNet as a Hugging Face transformers '
        'model folder (config.json, model.safetensors, '
        'preprocessor_config.json) for from_pretrained and pipeline '
        '(docs/weight_conversion.md).')
    parser.add_argument('config', help='mmregnet/mmpretrain/mmdet config')
    parser.add_argument('checkpoint', help='its checkpoint')
    parser.add_argument('out_dir', help='folder to write')
    args = parser.parse_args(argv)
    fields = _run(
        lambda: export_hf(args.config, args.checkpoint, args.out_dir),
        args.out_dir)
    if fields is None:
        return 1
    print(f'wrote {args.out_dir}: {fields["architectures"][0]} '
          f'(layer_type={fields["layer_type"]!r}, hidden_sizes='
          f'{fields["hidden_sizes"]}, depths={fields["depths"]}, '
          f'groups_width={fields["groups_width"]})')
    return 0
