"""Training checkpoints that are never half-written and that load with
``torch.load(weights_only=True)``.

mmengine 0.10.7 writes a checkpoint with one ``open(path, 'wb')``: a process
killed mid-write leaves a truncated file that ``--resume`` then picks up.
:class:`AtomicLocalBackend`, selected with
``backend_args=dict(backend='atomic_local')`` on the ``CheckpointHook``,
writes to a temporary file in the same folder, fsyncs it and renames it over
the target: readers see the old file or the complete new one.

mmengine also stores numpy scalars and arrays and its ``HistoryBuffer`` (whose
pickle calls ``getattr``) in the checkpoint. torch >= 2.6 loads with
``weights_only=True`` and refuses them, and allowing ``getattr`` would let a
checkpoint run code. :class:`PortableCheckpointHook` instead stores them as
plain lists, numbers and dicts, and rebuilds the ``HistoryBuffer`` objects
when a checkpoint is loaded, so resuming and testing need no unsafe loading.

A damaged file (cut short, overwritten) makes ``torch.load`` fail with
whatever its reader meets first (``EOFError``, ``IndexError: pop from empty
list``, a zip-archive ``RuntimeError``, a page-long ``UnpicklingError``).
:func:`read_checkpoint` turns all of them into a :class:`CheckpointError`
naming the file, and replaces mmengine's loader of local files with it, so
``load_from``, ``--resume``, ``tools/test.py``, ``init_cfg`` and
``get_model`` all say which file is not a complete checkpoint.
"""
import contextlib
import contextvars
import io
import os
import pickle
import re
import tempfile
from typing import Any, Union

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from ..registry import HOOKS

ATOMIC_BACKEND = 'atomic_local'
_HISTORY_BUFFER = '__mmengine_history_buffer__'
#: (file, ``meta``) of the checkpoint the last loader read, until taken
_LOADED = contextvars.ContextVar('mmregnet_loaded_checkpoint', default=None)


def atomic_write(data: Union[bytes, str], path) -> None:
    """Write ``data`` to ``path`` so that ``path`` is never partial."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{os.path.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def atomic_torch_save(obj: Any, path) -> None:
    """``torch.save(obj, path)`` that never leaves a partial file."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(buffer.getvalue(), path)


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or obtained; the one-line message
    names the file (or URL) and says why."""


def read_checkpoint(path, map_location='cpu') -> Any:
    """The checkpoint in ``path``: a ``.safetensors`` file, or a torch file
    loaded with ``weights_only=True`` (no code runs while loading).

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: the file is damaged or truncated, or pickles
            Python objects that ``weights_only`` refuses.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} can not be found.')
    try:
        if path.endswith('.safetensors'):
            from safetensors.torch import load_file
            return load_file(path, device=str(map_location or 'cpu'))
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        refused = re.search(r'Unsupported global: GLOBAL ([\w.]+)', str(error))
        if not refused:
            raise CheckpointError(_incomplete(path)) from None
        raise CheckpointError(
            f'{path} pickles Python objects ({refused[1]}), which mmregnet '
            'refuses to load because unpickling them can run code: save its '
            'state dict alone (torch.save(state_dict, path)) and use that '
            'file') from None
    except (ImportError, MemoryError):  # no safetensors; not the file's
        raise
    except Exception:  # what a damaged file makes torch.load raise
        raise CheckpointError(_incomplete(path)) from None


def _incomplete(path: str) -> str:
    """The one line for a file that torch.load (or safetensors) cannot read:
    the cause, told from the file's first bytes, in our words (never the
    reader's advice)."""
    with open(path, 'rb') as file:
        head = file.read(4)
    if not head:
        cause = 'the file is empty'
    elif path.endswith('.safetensors'):
        cause = 'its safetensors header or data is cut short or damaged'
    elif head == b'PK\x03\x04':  # torch's zip format
        cause = 'its zip archive is cut short or damaged'
    elif head[:1] == b'\x80':  # a pickle: torch's legacy format
        cause = 'it ends early or is damaged'
    else:
        cause = 'it is neither a torch checkpoint nor a safetensors file'
    return (f'{path} is not a complete checkpoint ({cause}; copy or download '
            'it again)')


def remember_loaded(checkpoint: Any, source: str) -> Any:
    """Keep ``source`` (file or URL) and ``checkpoint``'s ``meta`` for
    :func:`take_loaded` (mmengine hands the model loader the state dict
    alone); returns ``checkpoint``."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    _LOADED.set((source, meta if isinstance(meta, dict) else {}))
    return checkpoint


def take_loaded() -> tuple:
    """(source, meta) of the checkpoint loaded last, once; (None, {})
    when none is kept."""
    loaded = _LOADED.get() or (None, {})
    _LOADED.set(None)
    return loaded


def load_from_local(filename, map_location=None) -> Any:
    """mmengine's loader of local checkpoints, with :func:`read_checkpoint`'s
    errors."""
    return remember_loaded(
        read_checkpoint(os.path.expanduser(filename), map_location), filename)


CheckpointLoader.register_scheme('', load_from_local, force=True)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic ``put`` / ``put_text``."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), filepath)


register_backend(ATOMIC_BACKEND, AtomicLocalBackend)


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
