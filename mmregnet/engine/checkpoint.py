"""Training checkpoints that are never half-written and that load with
``torch.load(weights_only=True)``.

mmengine writes a checkpoint with one ``open(path, 'wb')``: a process
killed mid-write leaves a truncated file that ``--resume`` then picks up.
:class:`AtomicLocalBackend`, selected with
``backend_args=dict(backend='atomic_local')`` on the ``CheckpointHook``,
writes with :func:`mmregnet.fileio.atomic_write` instead.

mmengine also stores numpy scalars and arrays and its ``HistoryBuffer`` (whose
pickle calls ``getattr``) in the checkpoint. torch >= 2.6 loads with
``weights_only=True`` and refuses them, and allowing ``getattr`` would let a
checkpoint run code. :class:`PortableCheckpointHook` instead stores them as
plain lists, numbers and dicts, and rebuilds the ``HistoryBuffer`` objects
when a checkpoint is loaded, so resuming and testing need no unsafe loading.

:func:`load_from_local` is mmengine's loader of local files with
:func:`mmregnet.fileio.read_checkpoint`'s one-line errors, so ``load_from``,
``--resume``, ``tools/test.py``, ``init_cfg`` and ``get_model`` all say which
file is not a complete checkpoint. Nothing is registered in mmengine on
import: :mod:`.registration` installs the backend and the loader.
"""
import os
from typing import Any

import numpy as np
import torch
from mmengine.fileio import LocalBackend
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from ..fileio import atomic_write, read_checkpoint, remember_loaded
from ..registry import HOOKS

#: the name of :class:`AtomicLocalBackend` in ``backend_args``
ATOMIC_BACKEND = 'atomic_local'
_HISTORY_BUFFER = '__mmengine_history_buffer__'


def load_from_local(filename, map_location=None) -> Any:
    """mmengine's loader of local checkpoints, with :func:`read_checkpoint`'s
    errors."""
    return remember_loaded(
        read_checkpoint(os.path.expanduser(filename), map_location), filename)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic ``put`` / ``put_text``."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), filepath)


def to_plain_data(obj: Any) -> Any:
    """Replace numpy values and ``HistoryBuffer`` objects (recursively, in
    dicts, lists and tuples) by Python numbers, lists and marked dicts."""
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {
            _HISTORY_BUFFER: dict(
                log_history=log.tolist(),
                count_history=count.tolist(),
                max_length=obj.max_length)
        }
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.tolist()
    if isinstance(obj, dict):
        plain = {key: to_plain_data(value) for key, value in obj.items()}
        return type(obj)(plain) if type(obj) is not dict else plain
    if isinstance(obj, (list, tuple)) and not hasattr(obj, '_fields'):
        return type(obj)(to_plain_data(value) for value in obj)
    return obj


def restore_history_buffers(obj: Any) -> Any:
    """Inverse of :func:`to_plain_data` for ``HistoryBuffer`` objects."""
    if isinstance(obj, dict):
        if set(obj) == {_HISTORY_BUFFER}:
            return HistoryBuffer(**obj[_HISTORY_BUFFER])
        return type(obj)(
            (key, restore_history_buffers(value))
            for key, value in obj.items())
    if isinstance(obj, list):
        return [restore_history_buffers(value) for value in obj]
    return obj


@HOOKS.register_module()
class PortableCheckpointHook(Hook):
    """Keep checkpoints loadable with ``torch.load(weights_only=True)`` and
    self-describing.

    Runs last when saving (after e.g. EMA has added its weights): converts
    the checkpoint with :func:`to_plain_data` and writes the backbone's
    ``arch``, ``width_rounding`` and ``deploy`` into its ``meta``, which
    tell a mismatch's causes apart when it is loaded
    (:mod:`mmregnet.models.loading`). After loading it rebuilds the message
    hub's ``HistoryBuffer`` objects, so ``--resume`` continues the logged
    statistics exactly, and makes a resumed model load exactly (no head of
    another size).
    """
    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        from ..models.loading import backbone_meta
        model = getattr(runner, 'model', None)
        if model is not None:
            checkpoint.setdefault('meta', {}).update(backbone_meta(model))
        for key, value in list(checkpoint.items()):
            if not isinstance(value, torch.Tensor):
                checkpoint[key] = to_plain_data(value)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        from ..models.loading import exact_next_load
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = restore_history_buffers(
                checkpoint['message_hub'])
        if getattr(runner, '_resume', False):
            exact_next_load()
