"""Analytic complexity of a RegNet from its stage specs alone, counted the
way pycls counts it, so no module has to be built."""
from dataclasses import dataclass
from typing import Sequence, Tuple, Union

from .space import ArchLike, StageSpec, stage_specs


@dataclass(frozen=True)
class Complexity:
    """Parameters, multiply-adds (``flops``) and activations of a model."""
    params: int
    flops: int
    acts: int


class _Counter:
    """Accumulates pycls-style complexity while walking the network."""

    def __init__(self, height: int, width: int):
        self.h, self.w = height, width
        self.params = self.flops = self.acts = 0

    def conv(self, c_in, c_out, k, stride=1, groups=1, dilation=1, bias=False):
        pad = dilation * (k - 1) // 2
        self.h = (self.h + 2 * pad - dilation * (k - 1) - 1) // stride + 1
        self.w = (self.w + 2 * pad - dilation * (k - 1) - 1) // stride + 1
        hw = self.h * self.w
        self.flops += k * k * c_in * c_out * hw // groups + (c_out * hw
                                                             if bias else 0)
        self.params += k * k * c_in * c_out // groups + (c_out if bias else 0)
        self.acts += c_out * hw

    def norm(self, channels):
        self.params += 2 * channels

    def squeeze_excitation(self, channels, squeeze):
        h, w = self.h, self.w
        self.h = self.w = 1
        self.conv(channels, squeeze, 1, bias=True)
        self.conv(squeeze, channels, 1, bias=True)
        self.h, self.w = h, w

    def linear(self, c_in, c_out):
        self.flops += c_in * c_out + c_out
        self.params += c_in * c_out + c_out
        self.acts += c_out


def _as_pair(size) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    height, width = size
    return int(height), int(width)


def complexity(stages: Union[Sequence[StageSpec], ArchLike],
               input_size: Union[int, Tuple[int, int]] = 224,
               num_classes: int = 1000,
               in_channels: int = 3,
               stem_channels: int = 32,
               strides: Sequence[int] = None,
               dilations: Sequence[int] = None) -> Complexity:
    """Analytic complexity of stem, stages and (if ``num_classes``) the
    average-pool + linear head, counted like pycls (norm layers: 2 params per
    channel, no flops). Equals ``sum(p.numel())`` of the built model.

    ``stages`` are :class:`StageSpec` s or an arch (name, dict of design
    parameters or of per-stage lists), turned into stages by
    :func:`stage_specs` with pycls rounding."""
    if not isinstance(stages, (list, tuple)):
        stages = stage_specs(stages)
    strides = strides or [2] * len(stages)
    dilations = dilations or [1] * len(stages)
    counter = _Counter(*_as_pair(input_size))
    counter.conv(in_channels, stem_channels, 3, stride=2)
    counter.norm(stem_channels)
    c_in = stem_channels
    for spec, stride, dilation in zip(stages, strides, dilations):
        for block in range(spec.depth):
            block_stride = stride if block == 0 else 1
            h, w = counter.h, counter.w
            if block_stride != 1 or c_in != spec.width:
                counter.conv(c_in, spec.width, 1, stride=block_stride)
                counter.norm(spec.width)
                counter.h, counter.w = h, w
            w_b = spec.bottleneck_width
            counter.conv(c_in, w_b, 1)
            counter.norm(w_b)
            counter.conv(
                w_b, w_b, 3, block_stride, spec.groups, dilation=dilation)
            counter.norm(w_b)
            if spec.se_ratio:
                counter.squeeze_excitation(w_b, spec.se_width(c_in))
            counter.conv(w_b, spec.width, 1)
            counter.norm(spec.width)
            c_in = spec.width
    if num_classes:
        counter.linear(c_in, num_classes)
    return Complexity(counter.params, counter.flops, counter.acts)
