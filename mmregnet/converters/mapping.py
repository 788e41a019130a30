"""Key mapping of pycls, torchvision, timm, Hugging Face transformers and
vissl (SEER) RegNet checkpoints onto an mmpretrain ``ImageClassifier`` with
an mmregnet backbone (``backbone.*``, ``head.fc.*``). Tensors are renamed,
never changed; nothing here reads or writes files.

Each publisher's names are a column of two tables, the stem and head
modules and the modules inside a block, and a pattern that finds a block's
stage and index (a :class:`Source`). The arch is inferred from the tensor
shapes (stage widths, depths, groups and squeeze-excitation), or checked
against a given name or explicit stages (:class:`AnyNetParams`). A
checkpoint without a head converts to a backbone-only one
(``num_classes=0``).
"""
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Mapping, Optional, Tuple, Union

import torch

from ..design import (NAMED_ARCHS, ROUNDING_MODES, AnyNetParams, complexity,
                      resolve_arch, stage_specs)

# ImageNet-1k: its classes, and its statistics of 0-255 pixels in RGB order
IMAGENET_CLASSES = 1000
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)

_PARAM = re.compile(r'(?P<module>.+)\.(?P<param>weight|bias|running_mean|'
                    r'running_var|num_batches_tracked)')
_OUR_BLOCK = re.compile(r'backbone\.layer(\d+)\.(\d+)\.')
_COUNTER = '.num_batches_tracked'
_SHOWN_KEYS = 30
_TOOL_PREFIXES = {'transformers': 'hf'}


class ConversionError(ValueError):
    """A checkpoint that cannot be converted; the message says why."""


@dataclass(frozen=True)
class Source:
    """How a publisher names a RegNet's tensors, and the input its weights
    expect.

    Attributes:
        name: the publisher (``pycls``, ``torchvision``, ``timm``,
            ``transformers``, ``vissl``).
        code: its repository.
        modules: stem and head modules -> ours.
        block: regex of a block's module path; groups (stage, block index).
        first_block: the block index of a stage's first block.
        block_modules: modules inside a block -> ours (in ``layer{i}.{j}``).
        channel_order: ``'RGB'`` or ``'BGR'`` input.
        state_keys: where its training checkpoints keep the state dict.
        first_stage: the stage index of the first stage (ours: 1).
    """
    name: str
    code: str
    modules: Mapping[str, str]
    block: str
    first_block: int
    block_modules: Mapping[str, str]
    channel_order: str
    state_keys: Tuple[str, ...]
    first_stage: int = 1

    @property
    def mean(self) -> Tuple[float, ...]:
        """Per-channel mean of 0-255 input, in the input's channel order."""
        return IMAGENET_MEAN if self.channel_order == 'RGB' else \
            IMAGENET_MEAN[::-1]

    @property
    def std(self) -> Tuple[float, ...]:
        return IMAGENET_STD if self.channel_order == 'RGB' else \
            IMAGENET_STD[::-1]

    @property
    def tool(self) -> str:
        """Its command line, ``tools/model_converters/<tool>``."""
        return f'{_TOOL_PREFIXES.get(self.name, self.name)}2mmregnet.py'

    def map_key(self, key: str) -> Optional[str]:
        """Our name for the tensor ``key``, or None where none fits."""
        match = _PARAM.fullmatch(key)
        if not match:
            return None
        module, param = match['module'], match['param']
        if module in self.modules:
            return f'{self.modules[module]}.{param}'
        block = re.fullmatch(self.block + r'\.(.+)', module)
        if not block or block.group(3) not in self.block_modules:
            return None
        stage, index = int(block.group(1)), int(block.group(2))
        if stage < self.first_stage or index < self.first_block:
            return None
        ours = self.block_modules[block.group(3)]
        return (f'backbone.layer{stage - self.first_stage + 1}.'
                f'{index - self.first_block}.{ours}.{param}')


# Our modules and each publisher's: (pycls, torchvision, timm).
# pycls's AnyNet: s{i}.b{j} = ResBottleneckBlock(proj, bn, f=(a, a_bn, b,
# b_bn, se.f_ex, c, c_bn)); torchvision's RegNet:
# trunk_output.block{i}.block{i}-{j} with Conv2dNormActivation (0: conv,
# 1: norm); timm's RegNet: s{i}.b{j} with ConvNormAct.
_MODULES = {
    'backbone.conv1': ('stem.conv', 'stem.0', 'stem.conv'),
    'backbone.bn1': ('stem.bn', 'stem.1', 'stem.bn'),
    'head.fc': ('head.fc', 'fc', 'head.fc'),
}
_BLOCK_MODULES = {  # inside backbone.layer{i}.{j}
    'downsample.0': ('proj', 'proj.0', 'downsample.conv'),
    'downsample.1': ('bn', 'proj.1', 'downsample.bn'),
    'conv1': ('f.a', 'f.a.0', 'conv1.conv'),
    'bn1': ('f.a_bn', 'f.a.1', 'conv1.bn'),
    'conv2': ('f.b', 'f.b.0', 'conv2.conv'),
    'bn2': ('f.b_bn', 'f.b.1', 'conv2.bn'),
    'se.conv1': ('f.se.f_ex.0', 'f.se.fc1', 'se.fc1'),
    'se.conv2': ('f.se.f_ex.2', 'f.se.fc2', 'se.fc2'),
    'conv3': ('f.c', 'f.c.0', 'conv3.conv'),
    'bn3': ('f.c_bn', 'f.c.1', 'conv3.bn'),
}
# name, repository, block pattern, index of a stage's first block, input
# channel order, where training checkpoints keep the state dict
_PUBLISHERS = (
    ('pycls', 'https://github.com/facebookresearch/pycls', r's(\d+)\.b(\d+)',
     1, 'BGR', ('model_state', )),
    ('torchvision', 'https://github.com/pytorch/vision',
     r'trunk_output\.block(\d+)\.block\1-(\d+)', 0, 'RGB', ('model', )),
    ('timm', 'https://github.com/huggingface/pytorch-image-models',
     r's(\d+)\.b(\d+)', 1, 'RGB', ('state_dict', 'model')),
)


def _column(table: Mapping[str, Tuple[str, ...]], index: int):
    return {theirs[index]: ours for ours, theirs in table.items()}


SOURCES: Dict[str, Source] = {
    name: Source(name, code, _column(_MODULES, index), block, first_block,
                 _column(_BLOCK_MODULES, index), channel_order, state_keys)
    for index, (name, code, block, first_block, channel_order,
                state_keys) in enumerate(_PUBLISHERS)
}
# transformers' RegNet: RegNetForImageClassification
# (a RegNetModel under ``regnet.``; :mod:`.hf` adds the prefix to a bare
# RegNetModel's keys), stages from 0; a layer is Sequential(1x1, 3x3,
# [RegNetSELayer], 1x1) of RegNetConvLayer (convolution, normalization), so
# the last 1x1 is ``layer.2`` in an X block and ``layer.3`` in a Y block.
SOURCES['transformers'] = Source(
    'transformers', 'https://github.com/huggingface/transformers', {
        'regnet.embedder.embedder.convolution': 'backbone.conv1',
        'regnet.embedder.embedder.normalization': 'backbone.bn1',
        'classifier.1': 'head.fc',
    },
    r'regnet\.encoder\.stages\.(\d+)\.layers\.(\d+)',
    0, {
        'shortcut.convolution': 'downsample.0',
        'shortcut.normalization': 'downsample.1',
        'layer.0.convolution': 'conv1',
        'layer.0.normalization': 'bn1',
        'layer.1.convolution': 'conv2',
        'layer.1.normalization': 'bn2',
        'layer.2.attention.0': 'se.conv1',
        'layer.2.attention.2': 'se.conv2',
        'layer.2.convolution': 'conv3',  # X block
        'layer.2.normalization': 'bn3',
        'layer.3.convolution': 'conv3',  # Y block
        'layer.3.normalization': 'bn3',
    },
    'RGB', (),
    first_stage=0)
# vissl / classy-vision (the SEER originals): the ``trunk`` of
# ``classy_state_dict.base_model.model`` (:mod:`.vissl` flattens it, and the
# ``heads`` under ``heads.``); timm's ``_filter_fn`` for its RegNets
# documents the layout: ``_feature_blocks.res{n}.block{stage}-{j}`` with
# ``f.c`` + ``f.final_bn`` or ``f.c.0`` + ``f.c.1``, ``proj`` + ``bn`` or
# ``proj.0`` + ``proj.1``.
SOURCES['vissl'] = Source(
    'vissl', 'https://github.com/facebookresearch/vissl', {
        '_feature_blocks.conv1.stem.0': 'backbone.conv1',
        '_feature_blocks.conv1.stem.1': 'backbone.bn1',
        'heads.0.clf.0': 'head.fc',
    },
    r'_feature_blocks\.res\d+\.block(\d+)-(\d+)',
    0, {
        'proj': 'downsample.0',
        'proj.0': 'downsample.0',
        'bn': 'downsample.1',
        'proj.1': 'downsample.1',
        'f.a.0': 'conv1',
        'f.a.1': 'bn1',
        'f.b.0': 'conv2',
        'f.b.1': 'bn2',
        'f.se.excitation.0': 'se.conv1',
        'f.se.excitation.2': 'se.conv2',
        'f.c': 'conv3',
        'f.c.0': 'conv3',
        'f.final_bn': 'bn3',
        'f.c.1': 'bn3',
    },
    'RGB', ())


Arch = Union[str, AnyNetParams]


@dataclass(frozen=True)
class Conversion:
    """A converted state dict and the model it fits: a named arch, or
    explicit stages where no name fits (transformers' configs);
    ``num_classes=0`` for a backbone-only checkpoint (no head)."""
    state_dict: Dict[str, torch.Tensor]
    arch: Arch
    width_rounding: str
    num_classes: int
    stem_channels: int = 32

    @property
    def backbone_only(self) -> bool:
        return self.num_classes == 0

    @property
    def params(self) -> int:
        """Parameters of the model the checkpoint fits: the backbone and,
        unless backbone-only, a head of ``num_classes`` outputs."""
        return complexity(
            stage_specs(self.arch, rounding=self.width_rounding),
            num_classes=self.num_classes,
            stem_channels=self.stem_channels).params

    @property
    def arch_config(self):
        """``arch`` as a config value: the name, or a dict of stages."""
        return self.arch if isinstance(self.arch, str) else \
            self.arch.as_dict()


def _listing(keys) -> str:
    keys = list(keys)
    shown = ', '.join(str(key) for key in keys[:_SHOWN_KEYS])
    more = len(keys) - _SHOWN_KEYS
    return shown + (f' ... and {more} more' if more > 0 else '')


def get_source(source) -> Source:
    """The :class:`Source` of a publisher name (or the Source itself)."""
    if isinstance(source, Source):
        return source
    if source not in SOURCES:
        raise ValueError(f'Unknown source {source!r}; one of {list(SOURCES)}')
    return SOURCES[source]


def publisher_of(code: str) -> Optional[Source]:
    """The :class:`Source` whose repository is ``code`` (a metafile's
    ``Converted From: Code``), None for another repository."""
    return next(
        (source for source in SOURCES.values() if source.code == code), None)


#: vissl's self-supervised training heads (SwAV's projection head and
#: prototypes): no part of a classifier or a backbone, left out
VISSL_TRAINING_HEADS = ('projection_head', 'prototypes')


def vissl_state_dict(checkpoint: Mapping) -> Tuple[Dict, List[str]]:
    """The flat state dict of a vissl checkpoint (the ``trunk``, and the
    ``heads`` under ``heads.``) and the training-head keys left out."""
    model = checkpoint
    for key in ('classy_state_dict', 'base_model', 'model'):
        if isinstance(model.get(key), Mapping):
            model = model[key]
    if not isinstance(model.get('trunk'), Mapping):
        raise ConversionError(
            'no vissl trunk found: expected classy_state_dict.base_model.'
            f'model.trunk, the checkpoint holds {_listing(checkpoint)}')
    flat, left_out = dict(model['trunk']), []
    for key, value in (model.get('heads') or {}).items():
        if any(head in key for head in VISSL_TRAINING_HEADS):
            left_out.append(f'heads.{key}')
        else:
            flat[f'heads.{key}'] = value
    return flat, left_out


def unwrap_state_dict(checkpoint: Mapping, source) -> Mapping:
    """The state dict inside ``checkpoint`` (itself, or under one of the
    source's ``state_keys``, e.g. pycls's ``model_state``; a vissl
    checkpoint is flattened by :func:`vissl_state_dict`)."""
    source = get_source(source)
    if not isinstance(checkpoint, Mapping):
        raise ConversionError(
            f'expected a dict of tensors, got {type(checkpoint).__name__}')
    for key in source.state_keys:
        if isinstance(checkpoint.get(key), Mapping):
            return checkpoint[key]
    if all(isinstance(value, torch.Tensor) for value in checkpoint.values()):
        return checkpoint
    raise ConversionError(
        f'no {source.name} state dict found: the checkpoint holds '
        f'{_listing(checkpoint)}, and a state dict is either the checkpoint '
        f'itself or under {" or ".join(map(repr, source.state_keys))}')


def _map_keys(state_dict: Mapping, source: Source) -> Dict[str, torch.Tensor]:
    mapped, unmapped, sources_of = {}, [], {}
    for key, value in state_dict.items():
        ours = source.map_key(key)
        if ours is None:
            unmapped.append(key)
        elif ours in mapped:
            raise ConversionError(f'{source.name} keys {sources_of[ours]} '
                                  f'and {key} both map to {ours}')
        else:
            mapped[ours], sources_of[ours] = value, key
    if unmapped:
        others = [
            other.name for other in SOURCES.values() if other != source
            and all(other.map_key(key) for key in state_dict)
        ]
        hint = (f'; it looks like a {others[0]} checkpoint: use '
                f'{SOURCES[others[0]].tool}') if others else ''
        raise ConversionError(
            f'{len(unmapped)} {source.name} keys map to no mmregnet key: '
            f'{_listing(unmapped)}{hint}')
    return mapped


def stage_signature(
        state_dict: Mapping) -> Tuple[Tuple[Tuple[int, int, int], ...], bool]:
    """((width, depth, groups) per stage, has squeeze-excitation) of a state
    dict in our names; -1 where a tensor that tells is missing."""
    blocks = defaultdict(set)
    for key in state_dict:
        match = _OUR_BLOCK.match(key)
        if match:
            blocks[int(match.group(1))].add(int(match.group(2)))
    stages = []
    for stage in sorted(blocks):
        first = f'backbone.layer{stage}.0.'
        out_conv = state_dict.get(first + 'conv3.weight')
        group_conv = state_dict.get(first + 'conv2.weight')
        stages.append((
            out_conv.shape[0] if out_conv is not None else -1,
            len(blocks[stage]),
            group_conv.shape[0] // group_conv.shape[1]
            if group_conv is not None else -1,
        ))
    has_se = any('.se.' in key for key in state_dict)
    return tuple(stages), has_se


def arch_signature(arch: Arch, rounding: str):
    """:func:`stage_signature` of the model of ``arch`` and ``rounding``."""
    params = resolve_arch(arch)
    stages = tuple((spec.width, spec.depth, spec.groups)
                   for spec in stage_specs(params, rounding=rounding))
    return stages, params.se_ratio > 0


def _roundings_of(arch: str, signature) -> List[str]:
    return [
        rounding for rounding in ROUNDING_MODES
        if arch_signature(arch, rounding) == signature
    ]


def _arch_of(signature) -> Optional[Tuple[str, str]]:
    for arch in NAMED_ARCHS:
        roundings = _roundings_of(arch, signature)
        if roundings:
            return arch, roundings[0]
    return None


def infer_arch(state_dict: Mapping) -> Optional[Tuple[str, str]]:
    """(arch, width rounding) whose stages a state dict in our names has,
    preferring pycls's rounding where both fit; None if no arch fits."""
    return _arch_of(stage_signature(state_dict))


def _describe(signature) -> str:
    stages, has_se = signature
    return (f'stages (width, depth, groups) {list(stages)}, '
            f'{"with" if has_se else "without"} squeeze-excitation')


def _resolve_arch(mapped: Mapping, arch: Optional[Arch]) -> Tuple[Arch, str]:
    signature = stage_signature(mapped)
    if isinstance(arch, AnyNetParams):
        if arch_signature(arch, ROUNDING_MODES[0]) != signature:
            raise ConversionError(
                f'the checkpoint has {_describe(signature)}, its config '
                f'{_describe(arch_signature(arch, ROUNDING_MODES[0]))}')
        return arch, ROUNDING_MODES[0]
    if arch is None:
        inferred = _arch_of(signature)
        if inferred is None:
            raise ConversionError(
                'the checkpoint matches no known RegNet: it has '
                f'{_describe(signature)}; known archs: '
                f'{", ".join(NAMED_ARCHS)}')
        return inferred
    if arch not in NAMED_ARCHS:
        raise ConversionError(
            f'unknown arch {arch!r}; known archs: {", ".join(NAMED_ARCHS)}')
    roundings = _roundings_of(arch, signature)
    if not roundings:
        inferred = _arch_of(signature)
        looks = (f'it matches {inferred[0]}' if inferred else
                 'it matches no known arch')
        raise ConversionError(
            f'the checkpoint is not a {arch}: it has {_describe(signature)}, '
            f'{arch} has {_describe(arch_signature(arch, ROUNDING_MODES[0]))}'
            f'; {looks}')
    return arch, roundings[0]


@lru_cache(maxsize=None)
def model_shapes(arch: Arch,
                 width_rounding: str,
                 num_classes: int,
                 stem_channels: int = 32) -> Dict[str, torch.Size]:
    """Key -> shape of an ImageClassifier with this backbone and a linear
    head of ``num_classes`` (none for 0), built on the meta device: no
    memory, no init."""
    from ..models.backbones.regnet import RegNet
    with torch.device('meta'):
        backbone = RegNet(
            resolve_arch(arch),
            stem_channels=stem_channels,
            width_rounding=width_rounding)
    shapes = {
        f'backbone.{key}': value.shape
        for key, value in backbone.state_dict().items()
    }
    if num_classes == 0:
        return shapes
    shapes['head.fc.weight'] = torch.Size(
        (num_classes, backbone.stage_widths[-1]))
    shapes['head.fc.bias'] = torch.Size((num_classes, ))
    return shapes


def convert_state_dict(state_dict: Mapping,
                       source,
                       arch: Optional[Arch] = None,
                       stem_channels: int = 32) -> Conversion:
    """Rename a publisher's state dict to ours and check it against the
    model of ``arch`` (a name or explicit stages; inferred from the shapes
    when None) and ``stem_channels``.

    Missing BatchNorm ``num_batches_tracked`` counters (not used at
    inference) are filled with 0; every other tensor must be there. A
    checkpoint without a head (a self-supervised trunk, a transformers
    ``RegNetModel``) gives a backbone-only conversion, ``num_classes=0``.

    Raises:
        ConversionError: naming the source keys that map to no key of ours,
            the model keys left unfilled and the tensors of the wrong shape,
            or an arch that does not match.
    """
    source = get_source(source)
    mapped = _map_keys(state_dict, source)
    arch, rounding = _resolve_arch(mapped, arch)
    head = mapped.get('head.fc.weight', mapped.get('head.fc.bias'))
    num_classes = head.shape[0] if head is not None else 0
    shapes = model_shapes(arch, rounding, num_classes, stem_channels)
    for key in shapes:
        if key.endswith(_COUNTER) and key not in mapped:
            mapped[key] = torch.tensor(0)
    missing = [key for key in shapes if key not in mapped]
    unexpected = [key for key in mapped if key not in shapes]
    wrong = [
        f'{key} {tuple(mapped[key].shape)} (expected {tuple(shape)})'
        for key, shape in shapes.items()
        if key in mapped and mapped[key].shape != shape
    ]
    problems = [
        f'{title}: {_listing(keys)}'
        for title, keys in (('model keys left unfilled', missing),
                            ('keys the model does not have', unexpected),
                            ('tensors of the wrong shape', wrong)) if keys
    ]
    if problems:
        raise ConversionError(
            f'the {source.name} checkpoint does not fit {arch} '
            f"(width_rounding='{rounding}'): " + '; '.join(problems))
    return Conversion({key: mapped[key]
                       for key in shapes}, arch, rounding, num_classes,
                      stem_channels)
