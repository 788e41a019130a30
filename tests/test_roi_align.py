"""mmregnet's separable RoIAlign: the same features and gradients as
torchvision's ``roi_align`` (mmcv's ``RoIAlign`` with ``use_torchvision``)
for every argument mmcv's layer takes, and mmdet's RoI extractor built on it
(``mmregnet.SeparableRoIExtractor``) extracting what mmdet's does."""
import itertools
import re

import pytest
import torch
from torchvision.ops import roi_align as torchvision_roi_align

from mmregnet.detection import SeparableRoIAlign, roi_align


def random_rois(num, images, height, width, generator, dtype):
    """RoIs in input pixels (scale 1/4): inside, across and beyond the map's
    edges, tiny, and with negative sizes."""
    corner = (torch.rand(num, 2, generator=generator, dtype=dtype) * 1.3 -
              0.15) * torch.tensor([4 * width, 4 * height], dtype=dtype)
    size = (torch.rand(num, 2, generator=generator, dtype=dtype) * 0.8 -
            0.05) * torch.tensor([4 * width, 4 * height], dtype=dtype)
    image = torch.randint(0, images, (num, 1), generator=generator)
    return torch.cat([image.to(dtype), corner, corner + size], 1)


CASES = list(itertools.product(
    [(13, 17), (5, 5), (1, 2)],  # map height, width
    [2, 0, 1, 3],  # sampling_ratio (0: adaptive, per RoI)
    [True, False],  # aligned
    [(7, 7), (14, 14), (3, 5)]))  # output size


@pytest.mark.parametrize('shape,sampling_ratio,aligned,output_size', CASES)
def test_features_and_gradient_equal_torchvision(shape, sampling_ratio,
                                                 aligned, output_size):
    generator = torch.Generator().manual_seed(len(CASES))
    features = torch.randn(3, 4, *shape, generator=generator,
                           dtype=torch.float64, requires_grad=True)
    rois = random_rois(40, 2, *shape, generator, torch.float64)  # image 2
    # has none
    args = (rois, output_size, 0.25, sampling_ratio, aligned)
    theirs = torchvision_roi_align(features, *args)
    ours = roi_align(features, *args)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)
    upstream = torch.randn(theirs.shape, generator=generator,
                           dtype=torch.float64)
    their_grad, = torch.autograd.grad(theirs, features, upstream)
    our_grad, = torch.autograd.grad(ours, features, upstream)
    torch.testing.assert_close(our_grad, their_grad, rtol=0, atol=1e-12)
    assert our_grad[2].abs().sum() == 0


def test_samples_on_the_edges_of_the_valid_range_count():
    """A sample at -1 or at the map's size is inside (clamped to the edge
    pixel); a hair beyond it is outside."""
    features = torch.arange(12.0, dtype=torch.float64).reshape(1, 1, 3, 4)
    rois = torch.tensor([[0, 0, 2, 2, 4], [0, 0, -2, 2, 0],  # y = 3, -1
                         [0, 3, 0, 5, 2], [0, -2, 0, 0, 2],  # x = 4, -1
                         [0, 0, 2.02, 2, 4.02], [0, 0, -2.02, 2, -0.02]],
                        dtype=torch.float64)
    args = (rois, (1, 1), 1.0, 1, False)
    theirs = torchvision_roi_align(features, *args)
    assert theirs[:4].abs().sum() > 0 and theirs[4:].abs().sum() == 0
    torch.testing.assert_close(roi_align(features, *args), theirs, rtol=0,
                               atol=0)


def test_float32_agrees_to_rounding_and_no_rois_give_an_empty_batch():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(2, 64, 40, 40, generator=generator)
    rois = random_rois(300, 2, 40, 40, generator, torch.float32)
    torch.testing.assert_close(
        roi_align(features, rois, (7, 7), 0.25, 2),
        torchvision_roi_align(features, rois, 7, 0.25, 2, True),
        rtol=1e-5, atol=1e-5)
    empty = roi_align(features, rois[:0], (7, 7), 0.25, 2)
    assert empty.shape == (0, 64, 7, 7)


def test_an_roi_of_no_image_in_the_batch_is_refused_in_one_line():
    features = torch.randn(2, 4, 8, 8)
    rois = torch.tensor([[0, 0, 0, 9.0, 9.0], [5, 0, 0, 9.0, 9.0],
                         [-1, 0, 0, 9.0, 9.0]])
    with pytest.raises(ValueError, match=re.escape(
            'RoI image indices [-1, 5] are not images of the batch of 2')):
        roi_align(features, rois, 7, 0.25, 2)


def test_bf16_features_keep_float32_positions_and_rois_get_no_gradient():
    """Far from the origin, bf16 cannot hold a sample's position (a step
    of 1 pixel near 250): positions stay float32, only the sums are bf16."""
    generator = torch.Generator().manual_seed(2)
    features = torch.randn(1, 8, 300, 300, generator=generator)
    rois = torch.tensor([[0, 1000.3, 1001.1, 1030.7, 1020.9]],
                        requires_grad=True)
    reference = torchvision_roi_align(features, rois, 7, 0.25, 2, True)
    ours = roi_align(features.bfloat16(), rois, 7, 0.25, 2)
    assert ours.dtype == torch.bfloat16
    torch.testing.assert_close(ours.float(), reference, rtol=0.02,
                               atol=0.02)
    assert not ours.requires_grad


def test_layer_takes_mmcv_roialign_arguments():
    layer = SeparableRoIAlign(output_size=14, spatial_scale=0.125,
                              sampling_ratio=2)
    assert (layer.output_size, layer.aligned) == ((14, 14), True)
    assert 'output_size=(14, 14), spatial_scale=0.125' in repr(layer)
    features = torch.randn(1, 8, 20, 20)
    rois = torch.tensor([[0, 8.0, 16.0, 120.0, 90.0]])
    torch.testing.assert_close(
        layer(features, rois),
        torchvision_roi_align(features, rois, 14, 0.125, 2, True))


def _extractor(roi_extractor_type, **roi_layer):
    from mmdet.registry import MODELS
    return MODELS.build(dict(
        type=roi_extractor_type,
        roi_layer=dict(type='RoIAlign', output_size=7, **roi_layer),
        out_channels=16, featmap_strides=[4, 8, 16, 32]))


def test_mmdet_builds_the_extractor_by_its_scoped_name_and_it_extracts_alike():
    generator = torch.Generator().manual_seed(1)
    ours = _extractor('mmregnet.SeparableRoIExtractor', sampling_ratio=2)
    theirs = _extractor('SingleRoIExtractor', sampling_ratio=2,
                        use_torchvision=True)
    assert [type(layer).__name__ for layer in ours.roi_layers] == [
        'SeparableRoIAlign'] * 4
    feats = tuple(
        torch.randn(2, 16, 256 // s, 256 // s, generator=generator,
                    requires_grad=True) for s in (4, 8, 16, 32))
    rois = random_rois(200, 2, 64, 64, generator, torch.float32)
    mine, reference = ours(feats, rois), theirs(feats, rois)
    torch.testing.assert_close(mine, reference, rtol=1e-5, atol=1e-5)
    upstream = torch.randn(mine.shape, generator=generator)
    for ours_grad, their_grad in zip(
            torch.autograd.grad(mine, feats, upstream),
            torch.autograd.grad(reference, feats, upstream)):
        torch.testing.assert_close(ours_grad, their_grad, rtol=1e-4,
                                   atol=1e-4)


@pytest.mark.parametrize('roi_layer,message', [
    (dict(type='RoIPool'), "roi_layer type 'RoIPool' is not RoIAlign"),
    (dict(pool_mode='max'), "pool_mode must be 'avg'"),
    (dict(use_torchvision=True),
     "keys ['use_torchvision'] are not used by the separable kernel"),
])
def test_an_roi_layer_it_cannot_compute_is_refused_in_one_line(
        roi_layer, message):
    from mmdet.registry import MODELS
    layer = {**dict(type='RoIAlign', output_size=7), **roi_layer}
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        MODELS.build(dict(type='mmregnet.SeparableRoIExtractor',
                          roi_layer=layer, out_channels=8,
                          featmap_strides=[4]))
    assert '\n' not in str(error.value)
