"""Pretrained weights of every model in the index, in one call: download
the file (from its publisher or a mirror), verify it, convert it with
:mod:`mmregnet.converters` where it is a third-party original, and cache the
mmregnet checkpoint.

``mmregnet://<model name>`` is a checkpoint location for mmengine's
``CheckpointLoader`` (``load_from``, ``init_cfg=dict(type='Pretrained',
checkpoint=...)``, ``get_model(..., pretrained=...)``) that resolves here
(:func:`load_from_mmregnet`, installed by
:mod:`mmregnet.engine.registration`).

- Cache: ``$TORCH_HOME/hub/checkpoints/mmregnet/`` (torch.hub's folder,
  ``~/.cache/torch`` by default): a converted entry as ``<name>.pth``, a
  published checkpoint under its own file name. A cached file is used
  without touching the network.
- Verification: a file name ending in ``-<hex digits>.<ext>`` carries the
  first digits of the file's sha256 (torch.hub's convention, kept by
  torchvision and OpenMMLab); a metafile's ``SHA256`` gives the whole
  digest. A mismatch, or a download cut short, leaves nothing behind: files
  are downloaded to a temporary file in the cache folder and only the
  verified, converted result is renamed into place.
- Mirror: ``MMREGNET_WEIGHTS_MIRROR`` set to an ``http(s)://`` root or a
  local folder maps ``https://<host>/<path>`` to ``<mirror>/<host>/<path>``.
- Hugging Face Hub repos (an original ``hf-hub:<owner>/<name>``, the
  transformers SEER models) are fetched with ``huggingface_hub`` instead:
  its cache (``HF_HOME``), ``HF_HUB_OFFLINE`` and its mirror setting
  ``HF_ENDPOINT`` apply, as for ``get_model('hf-hub:...')``; the verified,
  converted result is cached as ``<name>.pth`` like the others.
- Every converted original must convert completely (every tensor of the
  entry's model, of the right shape) into the entry's model (its parameter
  count), headless where the entry says ``Backbone Only`` and with a head
  otherwise; files without a published digest are verified this way.
"""
import dataclasses
import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import NamedTuple, Optional, Tuple

import torch
from mmengine.dist import get_dist_info
from torch.hub import tqdm

from .converters import (SOURCES, ConversionError, convert_checkpoint,
                         publisher_of)
from .converters.mapping import IMAGENET_CLASSES
from .fileio import (CheckpointError, atomic_torch_save, read_checkpoint,
                     remember_loaded)
from .model_index import HF_HUB_SCHEME, load_model_index, lookup, original_of

SCHEME = 'mmregnet://'
MIRROR_ENV = 'MMREGNET_WEIGHTS_MIRROR'
#: torch.hub's convention: ``<name>-<first sha256 hex digits>.<ext>``
HASH_IN_FILE_NAME = re.compile(r'-(?P<digits>[0-9a-f]{8,64})\.[A-Za-z]+$')
_CHUNK = 1 << 20
_TIMEOUT_S = 60


class Weights(NamedTuple):
    """The file behind an index entry's weights and how to check it."""
    name: str  # the index entry
    url: str  # the publisher's original, or a published checkpoint
    sha256: Optional[str]  # the whole file's digest, where published
    source: Optional[str]  # the publisher to convert from; None: as it is
    params: int  # parameters of the entry's model
    backbone_only: bool = False  # a headless trunk (converted originals)

    @property
    def hash_prefixes(self):
        """The digests the file's sha256 must start with."""
        in_name = HASH_IN_FILE_NAME.search(self.url.rsplit('/', 1)[-1])
        return [
            digits for digits in (self.sha256, in_name and in_name['digits'])
            if digits
        ]

    @property
    def cache_name(self) -> str:
        return f'{self.name}.pth' if self.source else \
            self.url.rsplit('/', 1)[-1]


def weights_of(name: str) -> Weights:
    """The weights of the index entry ``name``.

    Raises:
        CheckpointError: an unknown name (with close matches), or an entry
            without weights (naming the converted entries of the same
            model).
    """
    try:
        meta = lookup(name)
    except ValueError as error:
        raise CheckpointError(str(error)) from None
    params = meta.metadata.parameters
    original = original_of(meta)
    if original:
        return Weights(meta.name, original.url, original.sha256,
                       publisher_of(original.code).name, params,
                       original.backbone_only)
    if meta.weights:
        return Weights(meta.name, meta.weights, meta.data.get('SHA256'), None,
                       params)
    # classifiers (a trunk leaves the head fresh), files before Hub repos
    # (which need huggingface_hub)
    same_model = [
        other for other in load_model_index().values()
        if original_of(other) and not original_of(other).backbone_only
        and other.metadata.parameters == params
        and other.name.split('_')[0] == meta.name.split('_')[0]
    ]
    same_model = [
        other.name for other in sorted(
            same_model,
            key=lambda other: (bool(original_of(other).hub_repo), other.name))
    ]
    hint = (f' Converted weights of the same model: {", ".join(same_model)} '
            f"(get_model('{same_model[0]}', pretrained=True))."
            if same_model else '')
    raise CheckpointError(
        f'{meta.name} has no published checkpoint: pass pretrained=False for '
        f'random weights or pretrained=PATH.{hint}')


def cache_dir() -> Path:
    """mmregnet's folder in torch.hub's checkpoint cache (follows
    ``TORCH_HOME``)."""
    return Path(torch.hub.get_dir()) / 'checkpoints' / 'mmregnet'


def mirrored(url: str) -> str:
    """``url`` on the mirror ``MMREGNET_WEIGHTS_MIRROR`` names (a
    ``file://`` URL for a local folder), or ``url`` itself."""
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        return url
    parts = urllib.parse.urlsplit(url)
    relative = parts.netloc + parts.path
    if mirror.startswith(('http://', 'https://')):
        return f'{mirror.rstrip("/")}/{relative}'
    if '://' in mirror or not os.path.isdir(mirror):
        raise CheckpointError(
            f'{MIRROR_ENV}={mirror!r} is neither an http(s):// URL nor an '
            'existing local folder')
    return (Path(mirror).resolve() / relative).as_uri()


def _manual_route(weights: Weights, src: str = 'FILE') -> str:
    """How to do by hand what :func:`fetch` does."""
    if weights.source:
        return (f'convert it: python tools/model_converters/'
                f'{SOURCES[weights.source].tool} {src} DST.pth, then use '
                'pretrained=DST.pth')
    return 'use pretrained=FILE'


def _download(url: str, weights: Weights, folder: Path, progress: bool) -> str:
    """Download ``url`` to a temporary file in ``folder``, verified against
    the weights' digests; returns its path. On any error nothing is left."""
    suffix = Path(urllib.parse.urlsplit(weights.url).path).suffix
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.download-', suffix=suffix)
    try:
        digest, received = hashlib.sha256(), 0
        request = urllib.request.Request(
            url, headers={'User-Agent': 'mmregnet'})
        with os.fdopen(fd, 'wb') as file, \
                urllib.request.urlopen(request, timeout=_TIMEOUT_S) as answer:
            size = answer.headers.get('Content-Length')
            size = int(size) if size else None
            with tqdm(
                    total=size,
                    disable=not progress,
                    unit='B',
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=weights.name) as bar:
                while chunk := answer.read(_CHUNK):
                    file.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if size is not None and received != size:
            raise http.client.IncompleteRead(b'', size - received)
        for expected in weights.hash_prefixes:
            if not digest.hexdigest().startswith(expected):
                raise CheckpointError(
                    f'{url}: sha256 {digest.hexdigest()} does not match the '
                    f'published {expected}; nothing was cached')
        return tmp
    except BaseException as error:
        os.remove(tmp)
        if isinstance(error, http.client.IncompleteRead):
            raise CheckpointError(
                f'the download of {url} was cut off after {received} bytes '
                f'(of {size or "an unknown size"}); nothing was cached'
            ) from None
        if isinstance(error, (OSError, http.client.HTTPException)):
            reason = error if isinstance(error, urllib.error.HTTPError) else \
                getattr(error, 'reason', None) or error
            raise CheckpointError(
                f'cannot download {url} ({reason}). Without network, set '
                f'{MIRROR_ENV} to an http(s):// URL or a folder holding '
                f'<host>/<path> of {weights.url}, or download that file '
                f'yourself and {_manual_route(weights)}') from None
        raise


def _check_model(conversion, weights: Weights, url: str) -> None:
    """A converted original is the entry's model: its parameter count (a
    headless trunk's with the entry's 1000-class head, which stays fresh),
    and a head exactly where the entry has one."""
    if conversion.backbone_only != weights.backbone_only:
        has = 'no classification head' if conversion.backbone_only else \
            f'a {conversion.num_classes}-class head'
        raise CheckpointError(
            f'{url} has {has}; {weights.name} is a '
            f'{"headless trunk" if weights.backbone_only else "classifier"}')
    with_head = conversion if conversion.num_classes else \
        dataclasses.replace(conversion, num_classes=IMAGENET_CLASSES)
    params = with_head.params
    if params != weights.params:
        raise CheckpointError(
            f'{url} holds a {conversion.arch_config} (width_rounding='
            f"'{conversion.width_rounding}', {params} parameters), "
            f'not the model of {weights.name} ({weights.params} parameters)')


def _convert_hub_repo(weights: Weights) -> dict:
    """The converted checkpoint of a Hub-repo entry, fetched with
    huggingface_hub (into its own cache) and checked."""
    from .converters.hf import HubUnreachable, convert_hf_model, read_hf
    try:
        conversion, checkpoint, _ = convert_hf_model(read_hf(weights.url))
    except HubUnreachable as error:
        repo = weights.url[len(HF_HUB_SCHEME):]
        raise CheckpointError(
            f'{weights.url}: {error}. Without network, set HF_ENDPOINT to a '
            'Hub mirror, or HF_HUB_OFFLINE=1 with the repo in the Hugging '
            f'Face cache, or {_manual_route(weights, repo)}') from None
    except (ConversionError, CheckpointError) as error:
        raise CheckpointError(f'{weights.url}: {error}') from None
    _check_model(conversion, weights, weights.url)
    return checkpoint


def _convert_file(original: str, url: str, weights: Weights) -> dict:
    """The converted checkpoint of a downloaded original, checked."""
    try:
        conversion, checkpoint = convert_checkpoint(
            original, weights.source, origin=weights.url)
    except (ConversionError, CheckpointError) as error:
        message = str(error).replace(original, url)
        raise CheckpointError(message if url in message else
                              f'{url}: {message}') from None
    _check_model(conversion, weights, url)
    return checkpoint


def fetch(name: str, progress: bool = True) -> str:
    """The path of the cached mmregnet checkpoint of the index entry
    ``name``: downloaded, verified and (for third-party weights) converted
    on first use, read from the cache after that."""
    weights = weights_of(name)
    cached = cache_dir() / weights.cache_name
    if cached.is_file():
        return str(cached)
    cached.parent.mkdir(parents=True, exist_ok=True)
    if weights.url.startswith(HF_HUB_SCHEME):
        atomic_torch_save(_convert_hub_repo(weights), cached)
        return str(cached)
    url = mirrored(weights.url)
    original = _download(url, weights, cached.parent, progress)
    try:
        if weights.source:
            atomic_torch_save(_convert_file(original, url, weights), cached)
        else:
            if not weights.hash_prefixes:  # nothing else tells it is whole
                read_checkpoint(original)
            os.replace(original, cached)
    finally:
        if os.path.exists(original):
            os.remove(original)
    return str(cached)


def fetch_hf(repo: str) -> Tuple[str, str]:
    """(config, checkpoint) paths of the transformers RegNet of the Hub repo
    ``repo`` (``owner/name[@revision]``), fetched with huggingface_hub
    (``HF_ENDPOINT``, ``HF_HUB_OFFLINE``, ``HF_HOME`` apply), converted on
    first use and cached as ``hf-hub/<owner>--<name>.pth`` and ``.py``."""
    from .converters.hf import HUB_SCHEME, convert_hf
    stem = re.sub(r'[^A-Za-z0-9._@-]', '--', repo)
    checkpoint = cache_dir() / 'hf-hub' / f'{stem}.pth'
    config = checkpoint.with_suffix('.py')
    if not (checkpoint.is_file() and config.is_file()):
        try:
            convert_hf(HUB_SCHEME + repo, checkpoint)
        except ConversionError as error:
            raise CheckpointError(f'{HUB_SCHEME}{repo}: {error}') from None
    return str(config), str(checkpoint)


def load_from_mmregnet(filename: str, map_location=None):
    """mmengine's loader of ``mmregnet://<model name>``; in a distributed
    job rank 0 fetches first, as mmengine's loader of URLs does."""
    name = filename[len(SCHEME):]
    rank, world_size = get_dist_info()
    if rank == 0:
        path = fetch(name)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            path = fetch(name)
    return remember_loaded(read_checkpoint(path, map_location), filename)
