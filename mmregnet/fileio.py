"""Files that are never half-written, and checkpoints read with one clear
error: no side effect on import (nothing is registered in mmengine here;
:mod:`mmregnet.engine.registration` does that).

- :func:`atomic_write` / :func:`atomic_torch_save` write to a temporary file
  in the target's folder, fsync it and rename it over the target: readers
  see the old file or the complete new one.
- :func:`read_checkpoint` loads with ``torch.load(weights_only=True)`` (or
  safetensors) and turns whatever a damaged file makes the reader raise
  (``EOFError``, ``IndexError: pop from empty list``, a zip-archive
  ``RuntimeError``, a page-long ``UnpicklingError``) into a
  :class:`CheckpointError` naming the file.
- :func:`remember_loaded` / :func:`take_loaded` hand the file name and
  ``meta`` of a checkpoint from mmengine's checkpoint loaders to the model
  loader (:mod:`mmregnet.models.loading`), which mmengine hands the state
  dict alone.
"""
import contextlib
import contextvars
import io
import os
import pickle
import re
import tempfile
from typing import Any, Union

import torch

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
