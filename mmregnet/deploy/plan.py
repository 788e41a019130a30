"""CPU execution plan of a deployed RegNet (see ``RegNet.switch_to_deploy``).

The deployed stem and blocks are :class:`~mmregnet.deploy.fused.FusedConv2d`
s, which run oneDNN's fused kernels for channels_last and oneDNN-blocked
input. This plan chooses how a batch goes through them: the stages whose
input has at least ``MICRO_BATCH_MIN_PIXELS`` pixels run in micro-batches of
``MICRO_BATCH`` images (activations that stay in cache), and activations are
kept in oneDNN's blocked layout (RegNetX from ``BLOCKED_MIN_BATCH`` images on,
where its grouped convolutions are faster) or else in channels_last. Outputs
equal the plain stem -> stages loop's, as dense tensors.
"""
from typing import Callable, Dict, List, Sequence, Tuple

import torch

from .fused import onednn_eligible

MICRO_BATCH = 4
MICRO_BATCH_MIN_PIXELS = 56 * 56
BLOCKED_MIN_BATCH = 4


def _to_blocked(x: torch.Tensor) -> torch.Tensor:
    return x.contiguous().to_mkldnn()


def _to_channels_last(x: torch.Tensor) -> torch.Tensor:
    return x.contiguous(memory_format=torch.channels_last)


def _to_dense(x: torch.Tensor) -> torch.Tensor:
    return x.to_dense() if x.is_mkldnn else x


def _cat_dense(parts: List[torch.Tensor]) -> torch.Tensor:
    """Dense concatenation along the batch of micro-batch outputs."""
    parts = [_to_dense(part) for part in parts]
    return parts[0] if len(parts) == 1 else torch.cat(parts)


class OneDNNPlan:
    """How a deployed RegNet runs inference on oneDNN's fused kernels.

    Args:
        strides (Sequence[int]): the stride of the stem, then of each stage
            (the stem and stages ``0 .. S``; the input of stage ``i`` is the
            image downsampled by the product of ``strides[:i]``).
        blocked_layout (bool): whether large batches may keep activations in
            oneDNN's blocked layout (RegNetX; RegNetY's squeeze-excitation
            runs on dense tensors).

    Called as ``plan.run(stages, out_indices, x)`` with ``stages`` the stem
    and then the stage modules (``S + 1`` callables, each (N, C, H, W) ->
    (N, C', H / s, W / s)); returns the outputs of ``out_indices`` (indices
    of stages after the stem), like the plain loop.
    """

    def __init__(self, strides: Sequence[int], blocked_layout: bool):
        self.strides = tuple(strides)
        self.blocked_layout = blocked_layout

    @staticmethod
    def applies_to(x: torch.Tensor) -> bool:
        """Whether ``x`` can take this plan (see
        :func:`~mmregnet.deploy.fused.onednn_eligible`)."""
        return onednn_eligible(x)

    def micro_batched_stages(self, x: torch.Tensor) -> int:
        """How many leading stages (the stem counted) run in micro-batches
        for input ``x``: those whose input has at least
        ``MICRO_BATCH_MIN_PIXELS`` pixels, never the last."""
        if x.shape[0] <= MICRO_BATCH:
            return 0
        pixels = x.shape[2] * x.shape[3]
        split = 0
        for stride in self.strides[:-1]:
            if pixels < MICRO_BATCH_MIN_PIXELS:
                break
            split += 1
            pixels //= stride * stride
        return split

    def run_stages(self, stages: Sequence[Callable],
                   out_indices: Sequence[int], x: torch.Tensor, first: int,
                   last: int,
                   outs: Dict[int, List[torch.Tensor]]) -> torch.Tensor:
        """Run ``stages[first:last]`` on ``x``, appending the outputs of the
        ``out_indices`` stages (``stages[i + 1]`` is stage ``i``) to
        ``outs[i]``."""
        for i in range(first, last):
            x = stages[i](x)
            if i - 1 in out_indices:
                outs.setdefault(i - 1, []).append(x)
        return x

    def run(self, stages: Sequence[Callable], out_indices: Sequence[int],
            x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if self.blocked_layout and x.shape[0] >= BLOCKED_MIN_BATCH:
            to_layout = _to_blocked
        else:
            to_layout = _to_channels_last
        split = self.micro_batched_stages(x)
        outs = {}
        if split:
            heads = [
                _to_dense(
                    self.run_stages(stages, out_indices, to_layout(part), 0,
                                    split, outs))
                for part in x.split(MICRO_BATCH)
            ]
            x = torch.cat(heads)
        self.run_stages(stages, out_indices, to_layout(x), split, len(stages),
                        outs)
        return tuple(_cat_dense(outs[i]) for i in out_indices)
