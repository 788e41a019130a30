"""Preprocessing of the converted weights' configs: each config's test
pipeline and data preprocessor give the input the publisher evaluates, and
an image through pipeline and converted checkpoint gives the publisher's
logits."""
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import timm
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmpretrain.registry import TRANSFORMS
from PIL import Image
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from torchvision import transforms
from torchvision.transforms import InterpolationMode

from mmregnet.apis import get_model
from mmregnet.converters import SOURCES
from tests.helpers import load_config
from tests.peers import one_thread  # noqa: F401 (fixture)
from tests.peers import (CONVERTED, INDEX, PEERS, TV_WEIGHTS, converted_peer,
                         original_of, publisher_of, random_model, timm_tag)

TOLERANCE = 1e-4


def write_image(path: Path, width: int, height: int) -> Path:
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([
        127 + 100 * np.sin(x / 17 + channel) * np.cos(y / 23 - channel)
        for channel in range(3)
    ], -1)
    noise = np.random.RandomState(0).normal(0, 20, pixels.shape)
    Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8)).save(
        path, quality=90)
    return path


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp('images')
    return dict(
        # short side 256, even crop margins: pycls neither resizes nor
        # rounds a crop offset (it takes ceil, mmcv rounds half to even)
        exact=write_image(folder / 'exact.jpg', 320, 256),
        resized=write_image(folder / 'resized.jpg', 300, 200),
        any=write_image(folder / 'any.jpg', 333, 250))


def pycls_input(image: Path, scale: int = 256, crop: int = 224):
    """pycls's test input (pycls/datasets/imagenet.py and transforms.py of
    the model zoo): cv2's BGR image as float, short side scaled to 256
    (bilinear), centre crop 224 (offsets rounded up), BGR mean and std."""
    im = cv2.imread(str(image)).astype(np.float32)
    h, w = im.shape[:2]
    if min(h, w) != scale:
        size = (scale, math.floor(h / w * scale)) if w < h else \
            (math.floor(w / h * scale), scale)
        im = cv2.resize(im, size, interpolation=cv2.INTER_LINEAR)
    h, w = im.shape[:2]
    y, x = math.ceil((h - crop) / 2), math.ceil((w - crop) / 2)
    im = im[y:y + crop, x:x + crop].transpose(2, 0, 1) / 255.0
    mean = np.array([0.406, 0.456, 0.485], np.float32)[:, None, None]
    std = np.array([0.225, 0.224, 0.229], np.float32)[:, None, None]
    return torch.from_numpy((im - mean) / std)[None]


def seer_transform(name: str):
    """How the SEER weights are evaluated on ImageNet-1k: a trunk as vissl's
    linear benchmark tests (short side 256, bilinear, centre crop 224), a
    fine-tuned one at 384 px as timm's regnety_*.seer_ft_in1k configs say
    (bicubic, crop_pct 1), both RGB with ImageNet's mean and std."""
    trunk = original_of(name).get('Backbone Only', False)
    size, crop, interpolation = (256, 224, 'bilinear') if trunk else \
        (384, 384, 'bicubic')
    if not trunk:  # timm's configs of the fine-tuned files agree
        cfg = timm.models.get_pretrained_cfg('regnety_320.seer_ft_in1k')
        assert (cfg.input_size, cfg.crop_pct, cfg.interpolation) == \
            ((3, crop, crop), 1.0, interpolation)
    return transforms.Compose([
        transforms.Resize(size, InterpolationMode(interpolation)),
        transforms.CenterCrop(crop),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD),
    ])


def publisher_input(name: str, image: Path) -> torch.Tensor:
    """The input that the publisher of an entry's weights evaluates."""
    if publisher_of(name) == 'pycls':
        return pycls_input(image)
    if publisher_of(name) == 'torchvision':
        transform = TV_WEIGHTS[original_of(name)['Weights']][1].transforms()
    elif publisher_of(name) in ('vissl', 'transformers'):
        transform = seer_transform(name)
    else:
        pretrained_cfg = timm.models.get_pretrained_cfg(timm_tag(name))
        transform = timm.data.create_transform(
            **timm.data.resolve_data_config(
                pretrained_cfg=pretrained_cfg.to_dict()))
    return transform(Image.open(image).convert('RGB'))[None]


def config_input(config: Config, image: Path) -> torch.Tensor:
    """The input of the config's test pipeline and data preprocessor."""
    pipeline = Compose([
        TRANSFORMS.build(step)
        for step in config.test_dataloader.dataset.pipeline
    ])
    packed = pipeline(dict(img_path=str(image)))
    preprocessor = MMPRETRAIN_MODELS.build(
        dict(type='ClsDataPreprocessor', **config.data_preprocessor))
    return preprocessor(
        dict(inputs=[packed['inputs']],
             data_samples=[packed['data_samples']]))['inputs']


@pytest.mark.parametrize('name', CONVERTED)
def test_config_gives_the_input_the_publisher_evaluates(name, images):
    image = images['exact' if publisher_of(name) == 'pycls' else 'any']
    expected = publisher_input(name, image)
    ours = config_input(load_config(INDEX[name].config), image)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-5)


def test_pycls_input_differs_by_resize_rounding_only(images):
    # pycls resizes float images, mmcv uint8 ones: within one grey level
    name = 'regnetx-400mf_3rdparty-pycls_in1k'
    ours = config_input(load_config(INDEX[name].config), images['resized'])
    difference = (ours - pycls_input(images['resized'])).abs().max()
    assert 0 < difference <= 1 / min(SOURCES['pycls'].std)


@pytest.mark.parametrize('name,peer_name', [
    ('regnetx-400mf_3rdparty-tv-v1_in1k', 'regnet_x_400mf'),
    ('regnety-200mf_3rdparty-timm-pycls_in1k', 'regnety_002'),
    ('regnetx-200mf_3rdparty-pycls_in1k', 'regnetx_002'),
])
def test_converted_weights_and_config_predict_what_the_publisher_does(
        name, peer_name, images, tmp_path):
    """An image through the publisher's evaluation and model, and through
    the config's pipeline and the converted checkpoint: the same logits."""
    publisher = publisher_of(name)
    peer = random_model(PEERS[publisher][0], peer_name)
    converted_peer(peer, publisher, tmp_path)
    model = get_model(name, pretrained=str(tmp_path / 'ours.pth')).eval()
    image = images['exact' if publisher == 'pycls' else 'any']
    with torch.no_grad():
        expected = peer(publisher_input(name, image))
        logits = model(
            config_input(load_config(INDEX[name].config), image),
            mode='tensor')
    torch.testing.assert_close(logits, expected, rtol=0, atol=TOLERANCE)
