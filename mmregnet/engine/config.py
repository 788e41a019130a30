"""Reading a config file for the tools and the API, with one-line errors;
what a config says that several tools ask (its dataset inside wrappers, its
training crop); and the check that what a detector needs is installed:
mmdet and mmcv's compiled ops (``mmcv._ext``: NMS, RoIAlign, ...), which
mmcv-lite leaves out."""
import ast
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config

from ..hosts import missing_detection_stack

#: pipeline transforms that crop the image
CROP_TRANSFORMS = ('RandomResizedCrop', 'RandomCrop', 'CenterCrop')
#: how to install what detection needs, from a checkout and with pip
DETECTION_INSTALL = (
    'run `bash tools/setup_env.sh --det` (from a pip install: `pip '
    'uninstall -y mmcv-lite; mim install "mmcv>=2.0,<2.2"; '
    'pip install "mmdet>=3.3,<4"`)')


class ConfigError(ValueError):
    """A config file that does not exist or cannot be read (one line)."""


class DetectionStackMissing(ImportError):
    """mmdet or mmcv's compiled ops are not installed (one line)."""


def read_config(path) -> Config:
    """``Config.fromfile(path)``; a missing file, a syntax error (in the file
    or one of its ``_base_`` files, with its line) or any other failure to
    read it is a :class:`ConfigError` naming the file."""
    path = str(path)
    if not osp.isfile(path):
        raise ConfigError(f'no such config file: {path}')
    try:
        return Config.fromfile(path)
    except SyntaxError as error:
        found = _syntax_error(path)
        where, line, message = found or (path, error.lineno, error.msg)
        at = f' line {line}' if line else ''
        raise ConfigError(
            f'config {where}{at} does not parse: {message}') from None
    except Exception as error:  # a missing _base_, a bad name, ...
        first = str(error).strip().splitlines()
        detail = f': {first[0]}' if first else ''
        raise ConfigError(f'config {path} cannot be read: '
                          f'{type(error).__name__}{detail}') from None


def innermost_dataset(dataset: dict) -> dict:
    """The dataset config inside any dataset wrappers (``RepeatDataset``,
    ``ClassBalancedDataset``, ...: each holds the next in ``dataset``)."""
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def crop_size(pipeline: Sequence[dict]) -> Optional[int]:
    """The side of the square crop of ``pipeline``: the ``scale`` or
    ``crop_size`` (an int, or a pair of equal ints) of its last crop
    transform (``RandomResizedCrop(scale=224)`` -> 224); None where it
    crops no square."""
    for transform in reversed(pipeline):
        if transform.get('type') not in CROP_TRANSFORMS:
            continue
        size = transform.get('crop_size', transform.get('scale'))
        if isinstance(size, int):
            return size
        if isinstance(size, (tuple, list)) and len(set(size)) == 1:
            return size[0]
    return None


def train_crop_size(cfg: Config) -> Optional[int]:
    """The side of a config's square training crop: :func:`crop_size` of its
    train dataset's pipeline (inside any wrappers); None where it has none
    (a detector's)."""
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    return crop_size(innermost_dataset(dataset).get('pipeline') or [])


def _syntax_error(path: str, seen=()):
    """(file, line, message) of the first file that does not parse among
    ``path`` and its local ``_base_`` files, depth first; None if all do."""
    if path in seen or not osp.isfile(path):
        return None
    with open(path, encoding='utf-8') as f:
        try:
            tree = ast.parse(f.read(), filename=path)
        except SyntaxError as error:
            return path, error.lineno, error.msg
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_'
                for t in node.targets):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                return None
            for base in [bases] if isinstance(bases, str) else bases:
                found = _syntax_error(
                    osp.normpath(osp.join(osp.dirname(path), base)),
                    (*seen, path))
                if found:
                    return found
    return None


def check_detection_stack(what: str) -> None:
    """Raise :class:`DetectionStackMissing` when ``what`` (a detector's
    config or name) cannot run here for want of mmdet or mmcv's ops."""
    missing = missing_detection_stack()
    if missing:
        raise DetectionStackMissing(
            f'{what} is an mmdet detector, and {"; ".join(missing)}: '
            f'{DETECTION_INSTALL}')
