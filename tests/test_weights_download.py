"""Pretrained weights in one call (mmregnet.weights): the publisher's
original, generated here with random weights, is served by a mirror on
127.0.0.1 (``MMREGNET_WEIGHTS_MIRROR``), downloaded, verified, converted and
cached; ``get_model(name, pretrained=True)`` then predicts what the
publisher's model does, and a second call needs no network. The SEER files
(vissl's, up to 1.3 G parameters) are played by a small stand-in in their
layout. Each test has a ``TORCH_HOME`` of its own. (The SEER Hub repos:
tests/test_hf_hub.py.)"""
import hashlib
import urllib.parse

import pytest
import torch
from mmengine.runner import CheckpointLoader

import mmregnet
from mmregnet.design import complexity
from mmregnet.engine import CheckpointError
from mmregnet.model_index import is_detector
from mmregnet.weights import MIRROR_ENV, cache_dir, fetch, weights_of
from tests.mirror import Mirror
from tests.peers import one_thread  # noqa: F401 (fixture)
from tests.peers import (CONVERTED, INDEX, PEERS, publisher_of, random_model,
                         save_vissl, save_vissl_trunk)

TOLERANCE = 1e-5
PYCLS_X200 = 'regnetx-200mf_3rdparty-pycls_in1k'
SEER_FILES = [name for name in CONVERTED if publisher_of(name) == 'vissl']
SEER_FT = 'regnety-32gf_3rdparty-seer-ft_in1k-384px'
SEER_TRUNK = 'regnety-32gf_3rdparty-seer_ig1b'
# the SEER files' stand-in: timm's RegNetY-400MF, saved as vissl does
STAND_IN, STAND_IN_ARCH = 'regnety_004', 'regnety_400mf'


@pytest.fixture
def mirror(tmp_path, monkeypatch) -> Mirror:
    """An empty mirror, and an empty TORCH_HOME."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    return Mirror(tmp_path / 'mirror')


def original_url(name: str) -> str:
    return INDEX[name].data['Converted From']['Weights']


def publish(mirror: Mirror,
            name: str,
            peer_name: str,
            monkeypatch,
            own_hash: bool = False):
    """Put a random-weight original of the entry ``name`` (the publisher's
    model ``peer_name``) on the mirror; returns the model. ``own_hash``: as
    a torchvision file must be named after its sha256, the file goes under
    a name with its own digits, and the entry's URL is patched to it."""
    source = INDEX[name].data['Converted From']
    build, save, *_ = PEERS[publisher_of(name)]
    if source.get('Backbone Only'):
        save = save_vissl_trunk
    peer = random_model(build, peer_name)
    url = source['Weights']
    if own_hash:
        staged = mirror.folder / 'staged.pth'
        staged.parent.mkdir(parents=True, exist_ok=True)
        save(peer, staged)
        digest = hashlib.sha256(staged.read_bytes()).hexdigest()
        url = url.rsplit('-', 1)[0] + f'-{digest[:8]}.pth'
        staged.rename(mirror.place(url))
        monkeypatch.setitem(INDEX[name].data, 'Converted From',
                            dict(source, Weights=url))
    else:
        save(peer, mirror.place(url))
    return peer


@torch.no_grad()
def assert_same_logits(model, peer, x) -> None:
    """Our classifier's logits are the peer's to ``TOLERANCE``."""
    torch.testing.assert_close(model(x, mode='tensor'), peer(x), rtol=0,
                               atol=TOLERANCE)


@pytest.mark.parametrize('name,peer_name,own_hash', [
    (PYCLS_X200, 'regnetx_002', False),
    ('regnety-200mf_3rdparty-timm-pycls_in1k', 'regnety_002', False),
    ('regnetx-400mf_3rdparty-tv-v1_in1k', 'regnet_x_400mf', True),
])
def test_pretrained_true_downloads_converts_caches_and_predicts_alike(
        mirror, monkeypatch, name, peer_name, own_hash):
    peer = publish(mirror, name, peer_name, monkeypatch, own_hash)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with mirror.serve() as root:
        monkeypatch.setenv(MIRROR_ENV, root)
        model = mmregnet.get_model(name, pretrained=True)
    assert_same_logits(model, peer, x)
    # the converted checkpoint alone is cached, under TORCH_HOME
    assert sorted(p.name for p in cache_dir().iterdir()) == [f'{name}.pth']
    assert cache_dir().is_relative_to(mirror.folder.parent / 'torch/hub')
    meta = torch.load(cache_dir() / f'{name}.pth', weights_only=True)['meta']
    assert meta['converted_from']['checkpoint'] == original_url(name)
    # server stopped: the cache serves a second call
    again = mmregnet.get_model(name, pretrained=True)
    assert_same_logits(again, peer, x)


def test_mmregnet_location_and_local_folder_mirror(mirror, monkeypatch):
    """``pretrained='mmregnet://<name>'`` loads converted weights into any
    config of the same model (here the arch's training config); a local
    folder is a mirror too."""
    peer = publish(mirror, PYCLS_X200, 'regnetx_002', monkeypatch)
    monkeypatch.setenv(MIRROR_ENV, str(mirror.folder))
    model = mmregnet.get_model(
        'regnetx-200mf_8xb128_in1k', pretrained=f'mmregnet://{PYCLS_X200}')
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    assert_same_logits(model, peer, x)


def test_published_checkpoint_is_verified_and_cached_as_it_is(
        mirror, monkeypatch):
    """An OpenMMLab checkpoint (no conversion) resolves the same way,
    checked against the digits in its file name."""
    name = 'regnetx-400mf_8xb128_in1k'
    published = mmregnet.get_model(name)
    staged = mirror.folder / 'staged.pth'
    staged.parent.mkdir(parents=True)
    torch.save(dict(state_dict=published.state_dict(), meta={}), staged)
    digest = hashlib.sha256(staged.read_bytes()).hexdigest()
    url = INDEX[name].weights.rsplit('-', 1)[0] + f'-{digest[:8]}.pth'
    staged.rename(mirror.place(url))
    monkeypatch.setattr(INDEX[name], 'weights', url)
    with mirror.serve() as root:
        monkeypatch.setenv(MIRROR_ENV, root)
        model = mmregnet.get_model(name, pretrained=True)
    assert [p.name for p in cache_dir().iterdir()] == [url.split('/')[-1]]
    for key, value in published.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_file_whose_hash_does_not_match_its_name_is_refused(
        mirror, monkeypatch):
    # a well-formed regnet_x_400mf under torchvision's published name
    name = 'regnetx-400mf_3rdparty-tv-v1_in1k'
    publish(mirror, name, 'regnet_x_400mf', monkeypatch)
    served = mirror.place(original_url(name))
    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    with mirror.serve() as root:
        monkeypatch.setenv(MIRROR_ENV, root)
        with pytest.raises(CheckpointError) as info:
            mmregnet.get_model(name, pretrained=True)
    message = str(info.value)
    assert f'{root}/download.pytorch.org/models/regnet_x_400mf-adf1edd5.pth' \
        in message
    assert f'sha256 {digest} does not match the published adf1edd5' in message
    assert list(cache_dir().iterdir()) == []


def test_file_whose_hash_does_not_match_the_metafile_sha256_is_refused(
        mirror, monkeypatch):
    publish(mirror, PYCLS_X200, 'regnetx_002', monkeypatch)
    served = mirror.place(original_url(PYCLS_X200))
    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    recorded = ('0' if digest[0] != '0' else '1') * 64
    monkeypatch.setitem(INDEX[PYCLS_X200].data, 'Converted From',
                        dict(INDEX[PYCLS_X200].data['Converted From'],
                             SHA256=recorded))
    monkeypatch.setenv(MIRROR_ENV, str(mirror.folder))
    with pytest.raises(CheckpointError,
                       match=f'sha256 {digest} does not match the '
                       f'published {recorded}'):
        fetch(PYCLS_X200)
    assert list(cache_dir().iterdir()) == []


def test_download_cut_midway_leaves_nothing(mirror, monkeypatch):
    publish(mirror, PYCLS_X200, 'regnetx_002', monkeypatch)
    file_name = original_url(PYCLS_X200).split('/')[-1]
    with mirror.serve(cut_short={file_name}) as root:
        monkeypatch.setenv(MIRROR_ENV, root)
        with pytest.raises(CheckpointError, match=f'{file_name} was cut off'):
            fetch(PYCLS_X200)
    assert list(cache_dir().iterdir()) == []


@pytest.mark.parametrize('name,served,error', [
    # RegNetY-200MF's file where pycls's RegNetX-200MF should be
    (PYCLS_X200, PEERS['pycls'][1],
     'holds a regnety_200mf .* not the model of ' + PYCLS_X200),
    (PYCLS_X200, PEERS['timm'][1],
     r'RegNetX-200MF_dds_8gpu\.pyth is not a complete checkpoint'),
    # a trunk where the fine-tuned classifier should be, and the reverse
    (SEER_FT, save_vissl_trunk,
     f'has no classification head; {SEER_FT} is a classifier'),
    (SEER_TRUNK, save_vissl,
     f'has a 1000-class head; {SEER_TRUNK} is a headless trunk'),
], ids=['regnety', 'safetensors', 'trunk-for-classifier',
        'classifier-for-trunk'])
def test_served_file_of_another_model_is_refused(mirror, monkeypatch, name,
                                                 served, error):
    served(
        random_model(PEERS['timm'][0], 'regnety_002'),
        mirror.place(original_url(name)))
    with mirror.serve() as root:
        monkeypatch.setenv(MIRROR_ENV, root)
        with pytest.raises(CheckpointError, match=error):
            fetch(name)
    assert list(cache_dir().iterdir()) == []


@pytest.mark.parametrize('name', SEER_FILES)
def test_seer_file_resolves_as_mmregnet_location(mirror, monkeypatch, name):
    """vissl's file (a fine-tuned classifier, or a trunk whose entry says
    ``Backbone Only``) through the mirror to a converted checkpoint, with a
    head exactly where the entry has one; the entry's parameter count is
    the stand-in's here."""
    peer = publish(mirror, name, STAND_IN, monkeypatch)
    monkeypatch.setattr(INDEX[name].metadata, 'parameters',
                        complexity(STAND_IN_ARCH).params)
    location = f'mmregnet://{name}'
    with mirror.serve() as root:
        monkeypatch.setenv(MIRROR_ENV, root)
        checkpoint = CheckpointLoader.load_checkpoint(location)
    trunk = weights_of(name).backbone_only
    assert trunk == name.endswith('_ig1b')
    assert checkpoint['meta']['backbone_only'] is trunk
    assert checkpoint['meta']['converted_from']['checkpoint'] == \
        original_url(name)
    state = checkpoint['state_dict']
    assert torch.equal(state['backbone.conv1.weight'], peer.stem.conv.weight)
    assert torch.equal(state['backbone.layer4.0.se.conv2.weight'],
                       peer.s4.b1.se.fc2.weight)
    assert ('head.fc.weight' in state) is not trunk
    if not trunk:
        assert torch.equal(state['head.fc.weight'], peer.head.fc.weight)
    assert [p.name for p in cache_dir().iterdir()] == [f'{name}.pth']
    # server stopped: from the cache
    again = CheckpointLoader.load_checkpoint(location)['state_dict']
    assert all(torch.equal(again[key], state[key]) for key in state)


def test_no_network_names_the_url_the_mirror_and_the_converter(
        mirror, monkeypatch):
    with mirror.serve() as root:
        pass  # nothing listens there any more
    monkeypatch.setenv(MIRROR_ENV, root)
    with pytest.raises(CheckpointError) as info:
        fetch(PYCLS_X200)
    message = str(info.value)
    assert f'cannot download {root}/dl.fbaipublicfiles.com/' in message
    assert MIRROR_ENV in message
    assert original_url(PYCLS_X200) in message
    assert 'python tools/model_converters/pycls2mmregnet.py' in message
    assert '\n' not in message
    assert list(cache_dir().iterdir()) == []


@pytest.mark.parametrize('value', ['ftp://mirror.example', 'no/such/folder'])
def test_mirror_that_is_neither_url_nor_folder_is_named(
        mirror, monkeypatch, value):
    monkeypatch.setenv(MIRROR_ENV, value)
    with pytest.raises(
            CheckpointError, match=f"{MIRROR_ENV}='{value}' is "
            'neither an http'):
        fetch(PYCLS_X200)


def test_entry_without_weights_names_the_converted_entries_of_its_model():
    with pytest.raises(CheckpointError) as info:
        mmregnet.get_model('regnety-1.6gf_8xb128_in1k', pretrained=True)
    message = str(info.value)
    assert 'has no published checkpoint' in message
    for weights in ('pycls', 'timm-pycls', 'tv-v1', 'tv-v2'):
        assert f'regnety-1.6gf_3rdparty-{weights}_in1k' in message
    # torchvision's wider Y-800MF is another model: not offered for pycls's
    with pytest.raises(CheckpointError) as info:
        mmregnet.get_model('regnety-800mf_8xb128_in1k', pretrained=True)
    assert 'regnety-800mf_3rdparty-pycls_in1k' in str(info.value)
    assert 'tv-v1' not in str(info.value)


def test_metafile_comments_offer_what_pretrained_true_offers():
    classifiers = [
        name for name, meta in INDEX.items() if not meta.weights
        and 'Converted From' not in meta.data and not is_detector(meta)
    ]
    assert len(classifiers) == 16  # of 24 archs, mmpretrain publishes 8
    for name in classifiers:
        with pytest.raises(CheckpointError) as info:
            weights_of(name)
        offered = str(info.value).split('same model: ')[1].split(' (')[0]
        assert INDEX[name].data['Comment'].endswith(
            f'same model: {offered}.'), name


def test_every_entry_with_weights_resolves_and_hashed_names_are_checked():
    hashed_hosts = {'download.pytorch.org', 'download.openmmlab.com'}
    entries = [
        name for name, meta in INDEX.items()
        if meta.weights or 'Converted From' in meta.data
    ]
    # converted (SEER's 15 among them), mmpretrain's, mmdet's
    assert len(entries) == 105 + 8 + 25
    for name in entries:
        weights = weights_of(name)
        host = urllib.parse.urlsplit(weights.url).netloc
        assert bool(weights.hash_prefixes) == (host in hashed_hosts), name
        assert (weights.source is None) == ('Converted From'
                                            not in INDEX[name].data)
