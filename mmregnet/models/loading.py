"""Weights that load into a model with an mmregnet ``RegNet`` exactly, or
not at all.

mmengine loads checkpoints with ``strict=False`` (``load_from``,
``--resume``, ``tools/test.py``, ``init_cfg=dict(type='Pretrained')``) and
only logs the keys that did not fit: a deploy-mode checkpoint, or widths of
the other rounding, then evaluate a half-random model with exit status 0.
:func:`load_state_dict` replaces mmengine's loader (all of those paths call
it; :mod:`mmregnet.engine.registration` installs it) for models that hold
a ``RegNet``; other models load as before.

- The backbone (every ``RegNet`` in the model) must fit exactly: a missing,
  unexpected or other-shaped tensor raises :class:`CheckpointMismatchError`,
  one line naming the keys (first few and the count) and the likely cause
  with its fix.
- Outside the backbone, fine-tuning may load partially, said in one line: a
  head of another size, the missing head of a backbone-only checkpoint, the
  unused classifier of an ImageNet backbone checkpoint. Under
  :func:`exact_loading` (evaluation: ``tools/test.py``, ``get_model``,
  ``--resume``) the whole model must fit.
- Under :func:`exact_loading` a deploy-mode checkpoint (norms folded) loads
  into a model built without ``deploy=True``: its backbone is switched to
  deploy mode first.
"""
import contextlib
import contextvars
import dataclasses
from collections import OrderedDict
from typing import Dict, Iterator, List, Optional, Tuple

import torch
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import checkpoint as mmengine_checkpoint

from ..design import resolve_arch
from ..fileio import CheckpointError, take_loaded
from .backbones.regnet import RegNet

_EXACT = contextvars.ContextVar('mmregnet_exact_loading', default=False)
_EXACT_NEXT = contextvars.ContextVar('mmregnet_exact_next', default=False)
_SHOWN_KEYS = 3


class CheckpointMismatchError(CheckpointError):
    """A checkpoint whose tensors do not fit the model; the one-line message
    names the keys and the likely cause with its fix."""


@contextlib.contextmanager
def exact_loading(exact: bool = True) -> Iterator[None]:
    """Within this context every tensor of the model must come from the
    checkpoint (evaluation, resuming); outside it a head may differ."""
    token = _EXACT.set(exact)
    try:
        yield
    finally:
        _EXACT.reset(token)


def exact_next_load() -> None:
    """Make the next load exact (``--resume``: the checkpoint is the
    model's own)."""
    _EXACT_NEXT.set(True)


def backbone_meta(model: torch.nn.Module) -> dict:
    """``arch``, ``width_rounding`` and ``deploy`` of the model's first
    ``RegNet`` (empty without one): the checkpoint metadata that tells a
    mismatch's causes apart."""
    if is_model_wrapper(model):
        model = model.module
    for _, regnet in _regnets(model):
        return dict(
            arch=dataclasses.asdict(regnet.arch),
            width_rounding=regnet.width_rounding,
            deploy=regnet.deploy)
    return {}


def _regnets(model) -> List[Tuple[str, RegNet]]:
    return [(f'{name}.' if name else '', module)
            for name, module in model.named_modules()
            if isinstance(module, RegNet)]


def _shapes(state: Dict[str, torch.Tensor]) -> Dict[str, tuple]:
    return {
        key: tuple(value.shape)
        for key, value in state.items()
        if 'num_batches_tracked' not in key and hasattr(value, 'shape')
    }


def _listed(keys: List[str], what: str) -> str:
    shown = ', '.join(keys[:_SHOWN_KEYS])
    more = f', ... ({len(keys)} in all)' if len(keys) > _SHOWN_KEYS else ''
    return f'{len(keys)} {what} ({shown}{more})'


def _is_deploy_state(given: Dict[str, tuple], prefix: str) -> bool:
    """Whether the tensors under ``prefix`` are a deploy-mode RegNet's: the
    stem convolution has a bias and no norm follows it."""
    return f'{prefix}conv1.bias' in given and \
        f'{prefix}bn1.weight' not in given


def _other_rounding(regnet: RegNet, prefix: str,
                    given: Dict[str, tuple]) -> Optional[str]:
    """The other ``width_rounding`` if the checkpoint's backbone tensors
    have its shapes."""
    other = 'torchvision' if regnet.width_rounding == 'pycls' else 'pycls'
    try:
        with torch.device('meta'):
            twin = RegNet(
                regnet.arch,
                in_channels=regnet.in_channels,
                stem_channels=regnet.stem_channels,
                strides=regnet.strides,
                dilations=regnet.dilations,
                width_rounding=other,
                deploy=regnet.deploy)
    except (ValueError, TypeError):
        return None
    twin_shapes = _shapes(twin.state_dict())
    if twin_shapes == _shapes(regnet.state_dict()):
        return None  # an AnyNet, or a rounding that changes nothing
    ours = {
        key[len(prefix):]: shape
        for key, shape in given.items() if key.startswith(prefix)
    }
    fits = all(ours.get(key) == shape for key, shape in twin_shapes.items())
    return other if fits else None


class _Mismatch:
    """What does not fit, split into the backbone and the rest."""

    def __init__(self, model, regnets, given: Dict[str, tuple]):
        expected = _shapes(model.state_dict())
        self.model, self.regnets, self.given = model, regnets, given
        self.missing = [k for k in expected if k not in given]
        self.unexpected = [k for k in given if k not in expected]
        self.reshaped = [
            k for k in expected if k in given and given[k] != expected[k]
        ]
        self.expected = expected

    def in_backbone(self, key: str) -> bool:
        """Whether ``key`` is under a ``RegNet`` of the model (for the
        model that is a ``RegNet``: under one of its modules)."""
        return any(
            key.startswith(prefix) if prefix else any(
                key.startswith(f'{child}.') for child in regnet._modules)
            for prefix, regnet in self.regnets)

    def keys(self, backbone: Optional[bool] = None) -> List[str]:
        return [
            key for key in self.missing + self.unexpected + self.reshaped
            if backbone is None or self.in_backbone(key) == backbone
        ]

    def describe(self, keys: List[str]) -> str:
        parts = []
        for what, listed in (('missing', self.missing),
                             ('unexpected', self.unexpected)):
            chosen = [key for key in listed if key in keys]
            if chosen:
                parts.append(_listed(chosen, what))
        reshaped = [
            f'{key} {_size(self.given[key])} for {_size(self.expected[key])}'
            for key in self.reshaped if key in keys
        ]
        if reshaped:
            parts.append(_listed(reshaped, 'of another shape'))
        return '; '.join(parts)

    def head_classes(self) -> Optional[Tuple[int, int]]:
        """(checkpoint, model) output sizes of a reshaped classifier."""
        for key in self.reshaped:
            if not self.in_backbone(key) and key.endswith('weight') and \
                    self.given[key][1:] == self.expected[key][1:]:
                return self.given[key][0], self.expected[key][0]
        return None

    def headless(self) -> bool:
        """Everything fits but modules outside the backbone the checkpoint
        has no tensor of."""
        tops = {key.split('.')[0] for key in self.missing}
        return bool(self.missing) and not self.unexpected and \
            not self.reshaped and not any(self.in_backbone(k)
                                          for k in self.missing) and \
            not any(key.split('.')[0] in tops for key in self.given)


def _size(shape: tuple) -> str:
    return 'x'.join(map(str, shape)) or 'scalar'


def _cause(mismatch: _Mismatch, meta: dict) -> str:
    """The likely cause of ``mismatch`` and its fix."""
    for prefix, regnet in mismatch.regnets:
        if not regnet.deploy and (meta.get('deploy') or _is_deploy_state(
                mismatch.given, prefix)):
            return ('it is a deploy-mode checkpoint (norms folded into the '
                    'convolutions, e.g. from tools/deployment/'
                    'reparameterize_model.py): evaluate it with '
                    'model.backbone.deploy=True (tools/test.py and '
                    'get_model do so themselves), or fine-tune from the '
                    'checkpoint it was made from')
        if regnet.deploy and f'{prefix}bn1.weight' in mismatch.given:
            return ('the model is in deploy mode (deploy=True) but the '
                    'checkpoint is not: drop deploy=True, or fold the '
                    'checkpoint with tools/deployment/reparameterize_model.py')
        other = _other_rounding(regnet, prefix, mismatch.given)
        if other:
            return (f"its widths are rounded the {other} way: build the "
                    f"backbone with width_rounding='{other}' (e.g. "
                    f"model.backbone.width_rounding='{other}')")
        backbone_keys = [k for k in mismatch.expected if k.startswith(prefix)]
        if prefix == '' and all(k in mismatch.missing for k in backbone_keys):
            for outer in ('backbone.', 'module.backbone.'):
                if any(k.startswith(outer) for k in mismatch.unexpected):
                    return (f"its keys start with '{outer}' (a whole model's "
                            f"checkpoint): add prefix='{outer}' to the "
                            "init_cfg")
    classes = mismatch.head_classes()
    if classes and not mismatch.keys(backbone=True):
        return (f'its head has {classes[0]} outputs, the model {classes[1]}: '
                f'a different num_classes? set model.head.num_classes='
                f'{classes[0]} to evaluate it, or fine-tune from it with '
                'load_from in tools/train.py')
    if mismatch.headless():
        return ('it has no head (a backbone-only checkpoint): evaluate a '
                "whole model's checkpoint, or fine-tune from it (load_from "
                'or init_cfg) where the head starts from its initialisation')
    if _other_arch(meta, mismatch.regnets):
        return (f"the checkpoint holds arch={meta['arch']!r} (width_rounding="
                f"{meta.get('width_rounding')!r}): build that model")
    return ('it holds another model (another arch, stem or head?): build '
            'the model of its config')


def _other_arch(meta: dict, regnets) -> bool:
    """Whether the checkpoint's ``meta`` names an arch none of the model's
    RegNets has."""
    try:
        arch = resolve_arch(meta['arch'])
    except (KeyError, TypeError, ValueError):
        return False
    return all(regnet.arch != arch for _, regnet in regnets)


def check_and_load(model, state_dict, exact: bool, source: Optional[str],
                   meta: dict) -> None:
    """Load ``state_dict`` into ``model`` (which holds a ``RegNet``) under
    the rules of the module docstring; ``source`` and ``meta``: the
    checkpoint's file and meta, where known."""
    given = _shapes(state_dict)
    regnets = _regnets(model)
    if exact:
        for prefix, regnet in regnets:
            if not regnet.deploy and _is_deploy_state(given, prefix):
                regnet._fold_norms()  # the values come from the checkpoint
                print_log(
                    f'the checkpoint is deploy-mode (norms folded): '
                    f'{prefix or "the "}backbone switched to deploy mode',
                    logger='current')
    mismatch = _Mismatch(model, regnets, given)
    wrong = mismatch.keys() if exact else mismatch.keys(backbone=True)
    if wrong:
        raise CheckpointMismatchError(
            f'{source or "the checkpoint"} does not fit the model '
            f'({mismatch.describe(wrong)}): {_cause(mismatch, meta)}')
    skipped = mismatch.keys(backbone=False)
    fitting = OrderedDict((key, value) for key, value in state_dict.items()
                          if key not in mismatch.reshaped)
    fitting._metadata = getattr(state_dict, '_metadata', None)
    model.load_state_dict(fitting, strict=False)
    if skipped:
        print_log(
            f'fine-tuning: the backbone loaded completely; outside it '
            f'{mismatch.describe(skipped)} keep their initialisation',
            logger='current')


_mmengine_load_state_dict = mmengine_checkpoint.load_state_dict


def load_state_dict(module, state_dict, strict=False, logger=None):
    """mmengine's ``load_state_dict``, exact for models with a ``RegNet``
    (see the module docstring)."""
    (source, meta), exact_next = take_loaded(), _EXACT_NEXT.get()
    _EXACT_NEXT.set(False)
    inner = module.module if is_model_wrapper(module) else module
    if not _regnets(inner):
        return _mmengine_load_state_dict(module, state_dict, strict, logger)
    exact = strict or exact_next or _EXACT.get()
    if exact and inner is not module and any(
            not regnet.deploy and _is_deploy_state(_shapes(state_dict), p)
            for p, regnet in _regnets(inner)):
        raise CheckpointMismatchError(
            f'{source or "the checkpoint"} is deploy-mode (norms folded) and '
            'the model is '
            'already wrapped for distributed use: build it with '
            'model.backbone.deploy=True')
    check_and_load(inner, state_dict, exact, source, meta)
