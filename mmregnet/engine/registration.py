"""Everything mmregnet changes in mmengine, in one place.

- ``CheckpointLoader`` scheme ``''`` (local files):
  :func:`~mmregnet.engine.checkpoint.load_from_local`, mmengine's loader
  with one-line errors for damaged files, which also keeps the file's name
  and ``meta`` for the model loader;
- ``CheckpointLoader`` scheme ``mmregnet://``:
  :func:`~mmregnet.weights.load_from_mmregnet` (the index's weights,
  downloaded, verified, converted and cached on first use);
- ``mmengine.runner.checkpoint.load_state_dict``:
  :func:`~mmregnet.models.loading.load_state_dict` (a model with an
  mmregnet ``RegNet`` loads exactly, or the load fails in one line);
- file backend ``atomic_local``:
  :class:`~mmregnet.engine.checkpoint.AtomicLocalBackend`.

Hooks, optim wrappers, strategies, metrics and models are registered in
mmregnet's own registries (scope ``mmregnet``, :mod:`mmregnet.registry`),
never in mmengine's or a host's.

:func:`register_in_mmengine` runs on ``import mmregnet.engine``, which
``tools/train.py``, ``tools/test.py`` and :mod:`mmregnet.apis`
(``get_model``, ``inference_model``) import, and on the first lookup of the
``mmregnet`` scope (every registry's ``locations`` import
:mod:`mmregnet.engine`), so a config that builds ``mmregnet.RegNet`` in
mmpretrain or mmdet gets it before ``init_cfg``, ``load_from`` or
``--resume`` load a checkpoint. Importing the backbone alone
(:mod:`mmregnet.models`) changes nothing in mmengine: a ``RegNet`` built in
Python and loaded with mmengine's ``load_checkpoint`` gets these loaders
once :mod:`mmregnet.engine` is imported.
"""
from mmengine.fileio import register_backend
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

from ..models import loading
from ..weights import SCHEME, load_from_mmregnet
from .checkpoint import ATOMIC_BACKEND, AtomicLocalBackend, load_from_local


def register_in_mmengine() -> None:
    """Install mmregnet's checkpoint loaders, model loader and file backend
    in mmengine (see the module docstring); running it again changes
    nothing."""
    CheckpointLoader.register_scheme('', load_from_local, force=True)
    CheckpointLoader.register_scheme(SCHEME, load_from_mmregnet, force=True)
    mmengine_checkpoint.load_state_dict = loading.load_state_dict
    register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)
