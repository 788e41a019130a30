"""RoIAlign as two small matrix products per image, fast to train on CPU.

Bilinear sampling is separable: the weight of pixel ``(h, w)`` for a sample
at ``(y, x)`` is ``k(y - h) * k(x - w)`` with ``k`` the hat function, and a
sample outside the map (``y`` or ``x`` beyond ``[-1, size]``) weighs zero
along either axis. A bin's average over its ``g_h x g_w`` samples is then
``A_y F A_x^T`` for one ``(p_h, H)`` matrix ``A_y`` and one ``(p_w, W)``
matrix ``A_x`` per RoI, and the whole op is general matrix products whose
backward autograd derives (again matrix products), instead of torchvision's
and mmcv's per-sample scatter loops, which take most of a small two-stage
detector's CPU training step. Forward and gradient equal torchvision's
``roi_align`` (``aligned=True`` as in Detectron2 and mmcv's default, or
``False``; fixed or adaptive ``sampling_ratio``) to float rounding.

Sized for small maps (the CPU quick starts): the intermediate product holds
``R p_h C W`` values, about 2.5 GB at COCO's 1,024 RoIs on a 200 x 336 map,
where mmdet's own extractor is the better choice.
"""
from typing import Tuple, Union

import torch
from torch import nn


def _pair(size: Union[int, Tuple[int, int]]) -> Tuple[int, int]:
    """``(p_h, p_w)`` of an output size given as one int or two."""
    return (size, size) if isinstance(size, int) else tuple(size)


def _axis_weights(start: torch.Tensor, size: torch.Tensor, bins: int,
                  grid: torch.Tensor, length: int) -> torch.Tensor:
    """``(R, bins, length)`` weights of one axis: row ``p`` of RoI ``r``
    averages ``grid[r]`` bilinear samples spread evenly over bin ``p`` of
    the RoI's span ``[start, start + size)`` on a map ``length`` pixels
    long."""
    samples = grid.clamp(min=1)
    most = int(samples.max()) if samples.numel() else 1
    i = torch.arange(most, dtype=start.dtype, device=start.device)
    p = torch.arange(bins, dtype=start.dtype, device=start.device)
    bin_size = (size / bins)[:, None, None]
    # sample coordinates, (R, bins, most), in torchvision's order of terms
    at = (start[:, None, None] + p[None, :, None] * bin_size +
          (i[None, None, :] + 0.5) * bin_size / samples[:, None, None])
    inside = ((i[None, None, :] < grid[:, None, None]) & (at >= -1.0) &
              (at <= length))
    at = at.clamp(min=0)
    low = at.floor()
    last = low >= length - 1
    low = torch.where(last, torch.full_like(low, length - 1), low)
    high = torch.where(last, low, low + 1)  # one pixel takes all the weight
    frac = at - low
    share = inside.to(start.dtype) / samples[:, None, None]
    weights = start.new_zeros(start.shape[0], bins, length)
    weights.scatter_add_(2, low.long(), (1 - frac) * share)
    weights.scatter_add_(2, high.long(), frac * share)
    return weights


def roi_align(features: torch.Tensor, rois: torch.Tensor,
              output_size: Union[int, Tuple[int, int]], spatial_scale: float,
              sampling_ratio: int, aligned: bool = True) -> torch.Tensor:
    """RoIAlign of ``rois`` ``(R, 5)`` (image index, ``x1, y1, x2, y2`` in
    input pixels) on ``features`` ``(N, C, H, W)``: ``(R, C, p_h, p_w)``.
    ``sampling_ratio`` samples per bin and axis (``<= 0``: ``ceil`` of the
    bin size, per RoI); ``aligned`` shifts by half a pixel (Detectron2).
    Sample positions and weights are computed in float32 at least (for
    bf16 features too); RoIs get no gradient."""
    num_images, channels, height, width = features.shape
    bins_h, bins_w = _pair(output_size)
    rois = rois.detach()
    image_of = rois[:, 0].long()
    outside = (image_of < 0) | (image_of >= num_images)
    if outside.any():
        raise ValueError(
            f'roi_align: RoI image indices '
            f'{sorted(set(image_of[outside].tolist()))} are not images of '
            f'the batch of {num_images}')
    position = torch.promote_types(features.dtype, torch.float32)
    offset = 0.5 if aligned else 0.0
    boxes = rois[:, 1:].to(position) * spatial_scale - offset
    x1, y1, x2, y2 = boxes.unbind(1)
    roi_w, roi_h = x2 - x1, y2 - y1
    if not aligned:
        roi_w, roi_h = roi_w.clamp(min=1), roi_h.clamp(min=1)
    if sampling_ratio > 0:
        grid_h = grid_w = torch.full_like(roi_h, sampling_ratio)
    else:
        grid_h, grid_w = torch.ceil(roi_h / bins_h), torch.ceil(roi_w / bins_w)
    rows = _axis_weights(y1, roi_h, bins_h, grid_h,
                         height).to(features.dtype)  # (R, p_h, H)
    cols = _axis_weights(x1, roi_w, bins_w, grid_w,
                         width).to(features.dtype)  # (R, p_w, W)
    pooled, order = [], []
    for image in range(num_images):
        index = (image_of == image).nonzero().squeeze(1)
        if not len(index):
            continue
        plane = features[image].transpose(0, 1).reshape(
            height, channels * width)
        # (r p_h, H) @ (H, C W), then each RoI's (p_h C, W) @ (W, p_w)
        by_rows = (rows[index].reshape(-1, height) @ plane).reshape(
            len(index), bins_h * channels, width)
        pooled.append(
            (by_rows @ cols[index].transpose(1, 2)).reshape(
                len(index), bins_h, channels, bins_w).transpose(1, 2))
        order.append(index)
    if not pooled:
        return features.new_zeros(len(rois), channels, bins_h, bins_w)
    return torch.cat(pooled)[torch.argsort(torch.cat(order))]


class SeparableRoIAlign(nn.Module):
    """:func:`roi_align` as a layer: mmcv's ``RoIAlign`` arguments
    (average pooling), ``forward(features, rois)``."""

    def __init__(self, output_size: Union[int, Tuple[int, int]],
                 spatial_scale: float, sampling_ratio: int = 0,
                 aligned: bool = True):
        super().__init__()
        self.output_size = _pair(output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = aligned

    def forward(self, features: torch.Tensor,
                rois: torch.Tensor) -> torch.Tensor:
        return roi_align(features, rois, self.output_size,
                         self.spatial_scale, self.sampling_ratio,
                         self.aligned)

    def extra_repr(self) -> str:
        return (f'output_size={self.output_size}, spatial_scale='
                f'{self.spatial_scale}, sampling_ratio={self.sampling_ratio}'
                f', aligned={self.aligned}')
