"""The converters' command line (``tools/model_converters/*2mmregnet.py``):
read a publisher's checkpoint, convert it with :mod:`.mapping` in memory
(:func:`convert_checkpoint`, which :mod:`mmregnet.weights` shares), write an
mmpretrain checkpoint atomically and say which preprocessing and config go
with it."""
import argparse
import dataclasses
import os
import sys
from typing import List, Mapping, NamedTuple, Optional, Tuple

from ..design import NAMED_ARCHS
from ..fileio import CheckpointError, atomic_torch_save, read_checkpoint
from ..model_index import load_model_index, original_of
from ..version import __version__
from .mapping import (IMAGENET_CLASSES, VISSL_TRAINING_HEADS, Conversion,
                      ConversionError, Source, convert_state_dict, get_source,
                      publisher_of, unwrap_state_dict, vissl_state_dict)


def imagenet_classes() -> List[str]:
    """The names of ImageNet-1k's classes, in index order, as torchvision's
    weights list them (no host framework needed)."""
    from torchvision.models import RegNet_X_400MF_Weights
    return list(RegNet_X_400MF_Weights.IMAGENET1K_V1.meta['categories'])


def checkpoint_payload(conversion: Conversion, source: Source,
                       origin: str) -> dict:
    """The mmpretrain checkpoint: ``state_dict`` and a ``meta`` of plain
    data (loads with ``weights_only=True``); ``origin`` names the converted
    file (its name, or the URL it was downloaded from). A backbone-only
    checkpoint says so (``backbone_only``, ``num_classes=0``)."""
    meta = dict(
        mmregnet_version=__version__,
        converted_from=dict(
            source=source.name, code=source.code, checkpoint=origin),
        arch=conversion.arch_config,
        width_rounding=conversion.width_rounding,
        num_classes=conversion.num_classes,
        backbone_only=conversion.backbone_only,
        input=dict(
            channel_order=source.channel_order,
            mean=list(source.mean),
            std=list(source.std)))
    if conversion.stem_channels != 32:
        meta['stem_channels'] = conversion.stem_channels
    if conversion.num_classes == IMAGENET_CLASSES:
        meta['dataset_meta'] = dict(classes=imagenet_classes())
    return dict(state_dict=conversion.state_dict, meta=meta)


def convert_checkpoint(src,
                       source,
                       arch: Optional[str] = None,
                       origin: Optional[str] = None
                       ) -> Tuple[Conversion, dict]:
    """Read the publisher's checkpoint ``src`` and convert it in memory:
    the :class:`Conversion` and the mmpretrain checkpoint to save.

    Raises:
        ConversionError: no such file, or its tensors do not convert.
        CheckpointError: the file is damaged or refused by
            ``weights_only`` loading.
    """
    source, src = get_source(source), os.fspath(src)
    if not os.path.isfile(src):
        raise ConversionError(f'no such file: {src}')
    checkpoint, left_out = read_checkpoint(src), []
    if source.name == 'vissl' and isinstance(checkpoint, Mapping) and \
            'classy_state_dict' in checkpoint:
        state_dict, left_out = vissl_state_dict(checkpoint)
    else:
        state_dict = unwrap_state_dict(checkpoint, source)
    conversion = convert_state_dict(state_dict, source, arch)
    payload = checkpoint_payload(conversion, source, origin or
                                 os.path.basename(src))
    if left_out:
        payload['meta']['left_out'] = left_out
    return conversion, payload


def convert_file(src,
                 dst,
                 source,
                 arch: Optional[str] = None) -> Tuple[Conversion, dict]:
    """Convert the checkpoint ``src`` and write it to ``dst``, atomically:
    on any error nothing is written. Returns what
    :func:`convert_checkpoint` does."""
    src, dst = os.fspath(src), os.fspath(dst)
    # a missing src is convert_checkpoint's error, not samefile's
    if os.path.exists(src) and os.path.exists(dst) and \
            os.path.samefile(src, dst):
        raise ConversionError(f'refusing to overwrite the source {src}')
    conversion, checkpoint = convert_checkpoint(src, source, arch)
    atomic_torch_save(checkpoint, dst)
    return conversion, checkpoint


class FittingConfig(NamedTuple):
    """A model-index entry whose config takes the converted weights."""
    name: str
    config: str
    original: str  # URL of the publisher's weights
    code: str  # the publisher's repository
    same_file: bool  # ``original`` names the converted file


def fitting_configs(conversion: Conversion, source: Source,
                    src: str) -> List[FittingConfig]:
    """Converted-weights entries of the model index whose config takes these
    weights: the same arch and widths (so the same parameter count) and
    weights of the same input channel order. First the entry whose original
    file ``src`` is, then those of the same publisher."""
    prefix = conversion.arch.replace('_', '-') + '_'
    # the index's entries are ImageNet classifiers: the same backbone with
    # their head, whatever head (or none) the checkpoint has
    params = dataclasses.replace(
        conversion, num_classes=IMAGENET_CLASSES).params
    fits = []
    for name, meta in load_model_index().items():
        original = original_of(meta)
        publisher = original and publisher_of(original.code)
        if not publisher or not name.startswith(prefix) or \
                meta.metadata.parameters != params or \
                publisher.channel_order != source.channel_order:
            continue
        fits.append(
            FittingConfig(name, meta.config, original.url, original.code,
                          original.file_key in src))
    return sorted(
        fits,
        key=lambda fit: (not fit.same_file, fit.code != source.code, fit.name))


def report_backbone_only(dst: str):
    print('backbone only (the checkpoint has no classification head): use '
          "it as init_cfg=dict(type='Pretrained', prefix='backbone.', "
          f"checkpoint='{dst}') or get_model(CONFIG, pretrained='{dst}'), "
          'which keeps a fresh head')


def _report_configs(conversion: Conversion, source: Source, src: str):
    fits = fitting_configs(conversion, source, src)
    if fits and fits[0].same_file:
        print(f'config: {os.path.relpath(fits[0].config)}\n'
              f'  ({fits[0].name}, converted from {fits[0].original})')
    elif fits:
        print('configs that take these weights (pick the one of the weights '
              'you converted):')
        for fit in fits:
            print(f'  {os.path.relpath(fit.config)}  <- {fit.original}')
    else:
        head = '' if conversion.backbone_only else \
            f', head.num_classes={conversion.num_classes}'
        print('no config in the model index takes these weights: use a '
              f"config with model.backbone.arch='{conversion.arch}', "
              f"width_rounding='{conversion.width_rounding}'{head} and the "
              'data_preprocessor above (docs/weight_conversion.md)')
    if fits and conversion.num_classes not in (0, IMAGENET_CLASSES):
        # a backbone-only checkpoint keeps the config's head
        print('  with --cfg-options model.head.num_classes='
              f'{conversion.num_classes}')


def main(source, argv=None) -> int:
    """Command line of ``tools/model_converters/<source>2mmregnet.py``;
    returns the exit status (1 and a message on stderr on an error)."""
    source = get_source(source)
    parser = argparse.ArgumentParser(
        prog=source.tool,
        description=f'Convert a {source.name} RegNetX/RegNetY checkpoint '
        'into an mmpretrain checkpoint with an mmregnet backbone '
        '(docs/weight_conversion.md).')
    parser.add_argument('src', help=f'{source.name} checkpoint')
    parser.add_argument('dst', help='mmregnet checkpoint to write')
    parser.add_argument(
        '--arch',
        choices=list(NAMED_ARCHS),
        help='check the checkpoint against this arch (default: infer it '
        'from the tensor shapes)')
    args = parser.parse_args(argv)
    try:
        conversion, checkpoint = convert_file(args.src, args.dst, source,
                                              args.arch)
    except (ConversionError, CheckpointError) as error:
        print(f'error: {error}\nnothing written to {args.dst}',
              file=sys.stderr)
        return 1
    print(f'{args.src}: {source.name} {conversion.arch} '
          f"(width_rounding='{conversion.width_rounding}'), "
          f'{conversion.num_classes} classes')
    print(f'input: {source.channel_order}, mean={list(source.mean)}, '
          f'std={list(source.std)} on 0-255 pixels (data_preprocessor '
          f"to_rgb={source.channel_order == 'RGB'}: mmcv loads BGR)")
    left_out = checkpoint['meta'].get('left_out')
    if left_out:
        print(f'left out {len(left_out)} keys of the self-supervised training '
              f'heads ({", ".join(VISSL_TRAINING_HEADS)}): {left_out[0]} ...')
    if conversion.backbone_only:
        report_backbone_only(args.dst)
    _report_configs(conversion, source, args.src)
    print(f'wrote {args.dst}')
    return 0
