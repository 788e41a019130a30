"""Fail at once, with instructions, when a config's dataset is missing."""
import os.path as osp
from typing import Iterable, List

from .config import innermost_dataset

PREPARE_HINTS = {
    'ImageNet': ('download ImageNet-1k from image-net.org and place it as '
                 'data/imagenet/{{train,val,meta}} following '
                 'https://mmpretrain.readthedocs.io/en/latest/user_guides/'
                 'dataset_prepare.html#imagenet, or point the config at your '
                 'copy with --cfg-options '
                 '{loader}.dataset.data_root=/path/to/imagenet'),
}
DEFAULT_HINT = ('prepare the dataset there or point the config at it with '
                '--cfg-options {loader}.dataset.data_root=/path/to/data')


class DatasetNotFoundError(FileNotFoundError):
    """A dataloader's data_root, annotation file or image folder is absent."""


def _dataset_paths(dataset: dict) -> List[str]:
    """The folders and files a dataset config points at, root first."""
    root = dataset.get('data_root') or ''
    prefix = dataset.get('data_prefix') or ''
    if isinstance(prefix, dict):  # mmpretrain: img_path, mmdet: img
        prefix = prefix.get('img_path') or prefix.get('img') or ''
    relative = [dataset.get('ann_file'), dataset.get('split'), prefix]
    return [root] * bool(root) + [osp.join(root, p) for p in relative if p]


def check_dataset_paths(cfg, loaders: Iterable[str]) -> None:
    """Raise :class:`DatasetNotFoundError` naming the first missing path of
    each given dataloader (e.g. ``train_dataloader``) and how to fix it."""
    problems = []
    for loader in loaders:
        loader_cfg = cfg.get(loader)
        if not loader_cfg:
            continue
        dataset = innermost_dataset(loader_cfg.get('dataset', {}))
        missing = [p for p in _dataset_paths(dataset) if not osp.exists(p)]
        if missing:
            kind = dataset.get('type', 'dataset')
            hint = PREPARE_HINTS.get(kind, DEFAULT_HINT).format(loader=loader)
            problems.append(f'{loader}: {kind} not found, looked for '
                            f'{osp.abspath(missing[0])!r}; {hint}')
    if problems:
        raise DatasetNotFoundError('\n'.join(problems))
