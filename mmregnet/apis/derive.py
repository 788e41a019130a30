"""Configs derived from a classification or mmdet config with another RegNet
arch: what ``tools/design/scale_config.py`` and ``sample_sweep.py`` write.

A derived config inherits its base (``_base_``, a path relative to the new
file) and overrides only the backbone arch, the channels that follow the
backbone's widths (an FPN's ``in_channels``, or the classification head's)
and, where given, the pipelines.
"""
import os
import os.path as osp
import re
from typing import Any, Dict, Optional, Sequence

from mmengine.config import Config

from ..design import ArchLike, stage_specs
from ..engine.config import read_config
from ..fileio import atomic_write

#: pipeline transform keys holding image sizes (mmpretrain and mmdet)
SIZE_KEYS = ('scale', 'scales', 'crop_size', 'img_scale')
_COUNT = re.compile(r'^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)([kKMGT]?)$')
_UNITS = {'': 1, 'k': 1e3, 'K': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12}


def parse_count(text: str) -> float:
    """``'1.2G'`` -> 1.2e9 (also ``k``, ``M``, ``T`` or a plain number)."""
    match = _COUNT.match(text.strip())
    if not match:
        raise ValueError(f'{text!r} is not a count; write e.g. 400M, 1.2G '
                         'or 3e8')
    return float(match.group(1)) * _UNITS[match.group(2)]


def load_regnet_config(path: str) -> Config:
    """The config at ``path``; ``ValueError`` (a
    :class:`~mmregnet.engine.ConfigError` for a file that is missing or does
    not parse) unless its model has an ``mmregnet.RegNet`` backbone."""
    cfg = read_config(path)
    backbone = cfg.get('model', {}).get('backbone', {})
    if backbone.get('type') not in ('mmregnet.RegNet', 'RegNet') or \
            'arch' not in backbone:
        raise ValueError(f'{path}: model.backbone is {backbone.get("type")!r}'
                         ', not an mmregnet.RegNet with an arch')
    return cfg


def backbone_arch(cfg: Config) -> ArchLike:
    """The backbone's arch as a name or a plain dict."""
    arch = cfg.model.backbone.arch
    return arch.to_dict() if hasattr(arch, 'to_dict') else arch


def counting_kwargs(cfg: Config) -> Dict[str, Any]:
    """How :func:`mmregnet.design.complexity` counts this config's model:
    stem, input channels, strides, dilations, and the classification head
    (``num_classes=0`` for a detector)."""
    backbone, head = cfg.model.backbone, cfg.model.get('head') or {}
    kwargs = dict(
        num_classes=head.get('num_classes', 0) if 'in_channels' in head and
        not _neck_channels(cfg) else 0,
        in_channels=backbone.get('in_channels', 3),
        stem_channels=backbone.get('stem_channels', 32))
    for key in ('strides', 'dilations'):
        if backbone.get(key):
            kwargs[key] = list(backbone[key])
    return kwargs


def _neck_channels(cfg: Config) -> bool:
    neck = cfg.model.get('neck') or {}
    return isinstance(neck, dict) and 'in_channels' in neck


def model_overrides(cfg: Config, arch: dict) -> dict:
    """``model`` overrides putting ``arch`` (a RegNet or AnyNet dict) in the
    backbone: its arch replaced, pretrained weights dropped (they fit the
    old widths), and the neck's (else the head's) ``in_channels`` set to
    the new stage widths of the backbone's ``out_indices``."""
    backbone = cfg.model.backbone
    stages = stage_specs(arch, rounding=backbone.get('width_rounding',
                                                     'pycls'))
    indices = backbone.get('out_indices') or (len(stages) - 1, )
    out_channels = [stages[i].width for i in indices]
    overrides = dict(backbone=dict(arch=dict(_delete_=True, **arch)))
    init_cfg = backbone.get('init_cfg') or {}
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        overrides['backbone']['init_cfg'] = None
    if _neck_channels(cfg):
        overrides['neck'] = dict(in_channels=out_channels)
    elif 'in_channels' in (cfg.model.get('head') or {}):
        overrides['head'] = dict(in_channels=out_channels[-1])
    return overrides


def _scale_sizes(value, ratio: float):
    """Every int in ``value`` (an int, or nested lists / tuples of them)
    times ``ratio``, rounded to a multiple of 4 (pycls's image sizes)."""
    if isinstance(value, bool) or not isinstance(value, (int, list, tuple)):
        return value
    if isinstance(value, int):
        return max(4, round(value * ratio / 4) * 4)
    return type(value)(_scale_sizes(v, ratio) for v in value)


def _scale_pipelines(value, ratio: float, in_pipeline: bool = False):
    """A copy of ``value`` whose pipeline transforms (and the transforms
    they wrap, e.g. ``RandomChoice``) have their image sizes scaled."""
    if isinstance(value, dict):
        return {
            key: _scale_sizes(item, ratio) if in_pipeline and key in SIZE_KEYS
            else _scale_pipelines(
                item, ratio, in_pipeline or key == 'transforms'
                or key == 'pipeline' or key.endswith('_pipeline'))
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(
            _scale_pipelines(item, ratio, in_pipeline) for item in value)
    return value


def pipeline_overrides(cfg: Config, ratio: float) -> dict:
    """Top-level overrides (``train_dataloader``, ``test_pipeline``, ...)
    with every pipeline's image sizes scaled by ``ratio``."""
    overrides = {}
    for key, value in cfg.to_dict().items():
        scaled = _scale_pipelines(value, ratio, key.endswith('_pipeline'))
        if scaled != value:
            overrides[key] = scaled
    return overrides


def config_literal(value,
                   column: Optional[int] = None,
                   level: int = 0) -> str:
    """``value`` as Python source in OpenMMLab's config style, starting at
    ``column`` on a line indented by ``level``: one item per line where a
    single line would pass 79 columns (never for ``column=None``)."""
    if isinstance(value, dict):
        named = all(isinstance(k, str) and k.isidentifier() for k in value)
        items = [(f'{k}=' if named else f'{k!r}: ', v)
                 for k, v in value.items()]
        opening, closing = ('dict(', ')') if named else ('{', '}')
    elif isinstance(value, (list, tuple)):
        items = [('', v) for v in value]
        opening, closing = ('[', ']') if isinstance(value, list) else \
            ('(', ',)' if len(value) == 1 else ')')
    else:
        return repr(value)
    flat = opening + ', '.join(key + config_literal(item)
                               for key, item in items) + closing
    if column is None or column + len(flat) <= 79 or not items:
        return flat
    inner = level + 4
    lines = [
        ' ' * inner + key + config_literal(item, inner + len(key), inner)
        for key, item in items
    ]
    return opening + '\n' + ',\n'.join(lines) + closing


def write_derived_config(path: str, base: str, overrides: Dict[str, Any],
                         comment: Sequence[str] = ()) -> None:
    """Write (atomically) a config that inherits ``base`` and sets
    ``overrides``; strings may use mmengine's ``{{ fileDirname }}``."""
    base = osp.relpath(osp.abspath(base), osp.dirname(osp.abspath(path)))
    lines = [f'# {line}' for line in comment]
    lines.append(f'_base_ = [{base!r}]')
    lines += [
        f'{key} = {config_literal(value, column=len(key) + 3)}'
        for key, value in overrides.items()
    ]
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    atomic_write('\n'.join(lines) + '\n', path)
