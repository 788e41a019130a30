"""RegNetX / RegNetY backbone built from the specs of :mod:`mmregnet.design`.

State-dict keys follow OpenMMLab's RegNet (``conv1``, ``bn1``,
``layer{i}.{j}.conv1..3``, ``bn1..3``, ``downsample.0/1``), so mmpretrain's and
mmdet's RegNetX checkpoints load unchanged; RegNetY adds
``layer{i}.{j}.se.conv1/conv2``.

Deploy mode (``switch_to_deploy()`` or ``deploy=True``) folds every BatchNorm
into its convolution. Its state dict has no ``bn*`` keys: ``conv1``,
``layer{i}.{j}.conv1..3`` and ``layer{i}.{j}.downsample`` each hold a
``weight`` and a ``bias``; ``se`` is unchanged.
"""
import contextlib
import itertools
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from ...deploy.fused import check_deployable, fuse_conv_bn
from ...deploy.plan import OneDNNPlan
from ...design import (ArchLike, Complexity, StageSpec, check_int, complexity,
                       resolve_arch, stage_specs)
from ...registry import MODELS


def _norm(norm_cfg: dict, channels: int) -> nn.Module:
    return build_norm_layer(norm_cfg, channels)[1]


@contextlib.contextmanager
def _keep_norm_statistics(module: nn.Module):
    """Restore the running statistics of ``module``'s BatchNorms on exit: a
    checkpointed block's recomputation must not count its batch twice."""
    norms = [
        m for m in module.modules()
        if isinstance(m, _BatchNorm) and m.training and m.track_running_stats
    ]
    saved = [[b.clone() for b in m.buffers()] for m in norms]
    try:
        yield
    finally:
        with torch.no_grad():
            for norm, buffers in zip(norms, saved):
                for buffer, value in zip(norm.buffers(), buffers):
                    buffer.copy_(value)


class SqueezeExcitation(nn.Module):
    """Channel gating ``x * sigmoid(W2 act(W1 avgpool(x)))``.

    Shapes: (N, C, H, W) -> (N, C, H, W); ``W1``: C -> ``squeeze_channels``,
    ``W2``: ``squeeze_channels`` -> C, both 1x1 convolutions with bias.
    """

    def __init__(self, channels: int, squeeze_channels: int, act_cfg: dict):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.act = build_activation_layer(act_cfg)
        self.conv2 = nn.Conv2d(squeeze_channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.conv2(self.act(self.conv1(x.mean((2, 3), keepdim=True))))
        return x * scale.sigmoid()


class RegNetBlock(nn.Module):
    """The X block (Y: with squeeze-excitation) of the paper.

    ``1x1 conv (w_in -> w_b) -> 3x3 group conv (w_b, groups = w_b / g,
    stride s) -> [SE] -> 1x1 conv (w_b -> w_out)``, added to the shortcut
    (a strided 1x1 conv + norm where shape changes), then the activation.
    In deploy mode the norms are folded into the convolutions and conv3 adds
    the shortcut and activates.
    Shapes: (N, w_in, H, W) -> (N, w_out, H / s, W / s).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 bottleneck_channels: int,
                 groups: int,
                 se_channels: int = 0,
                 stride: int = 1,
                 dilation: int = 1,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU', inplace=True),
                 drop_path_rate: float = 0.,
                 with_cp: bool = False):
        super().__init__()
        self.with_cp = with_cp
        self.deploy = False
        self.conv1 = nn.Conv2d(
            in_channels, bottleneck_channels, 1, bias=False)
        self.bn1 = _norm(norm_cfg, bottleneck_channels)
        self.conv2 = nn.Conv2d(
            bottleneck_channels,
            bottleneck_channels,
            3,
            stride=stride,
            padding=dilation,
            dilation=dilation,
            groups=groups,
            bias=False)
        self.bn2 = _norm(norm_cfg, bottleneck_channels)
        self.se = SqueezeExcitation(bottleneck_channels, se_channels,
                                    act_cfg) if se_channels else None
        self.conv3 = nn.Conv2d(
            bottleneck_channels, out_channels, 1, bias=False)
        self.bn3 = _norm(norm_cfg, out_channels)
        self.act = build_activation_layer(act_cfg)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(
                    in_channels, out_channels, 1, stride=stride, bias=False),
                _norm(norm_cfg, out_channels))
        self.drop_path = DropPath(
            drop_path_rate) if drop_path_rate > 0 else nn.Identity()

    def _residual_sum(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.bn1(self.conv1(x)))
        out = self.act(self.bn2(self.conv2(out)))
        if self.se is not None:
            out = self.se(out)
        out = self.drop_path(self.bn3(self.conv3(out)))
        out += x if self.downsample is None else self.downsample(x)
        return out

    def _deploy_forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.conv1(x))
        if self.se is not None:
            out = self.se(out)
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.conv3(out, shortcut)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.deploy:
            return self._deploy_forward(x)
        if self.with_cp and self.training and torch.is_grad_enabled():
            out = cp.checkpoint(
                self._residual_sum,
                x,
                use_reentrant=False,
                context_fn=lambda: (contextlib.nullcontext(),
                                    _keep_norm_statistics(self)))
        else:
            out = self._residual_sum(x)
        return self.act(out)

    def _fold_norms(self):
        """Deploy mode (see :meth:`RegNet.switch_to_deploy`)."""
        self.conv1 = fuse_conv_bn(self.conv1, self.bn1, self.act)
        self.conv2 = fuse_conv_bn(self.conv2, self.bn2, self.act)
        self.conv3 = fuse_conv_bn(self.conv3, self.bn3, self.act)
        if self.downsample is not None:
            self.downsample = fuse_conv_bn(*self.downsample)
        del self.bn1, self.bn2, self.bn3
        self.deploy = True


def _check_int_tuple(name, values, length, minimum):
    values = tuple(values)
    if len(values) != length or any(
            isinstance(v, bool) or not isinstance(v, int) or v < minimum
            for v in values):
        raise ValueError(f'{name} must be {length} ints >= {minimum} (one per '
                         f'stage of this arch), got {name}={values!r}')
    return values


def _check_arguments(num_stages: int, in_channels, stem_channels, strides,
                     dilations, out_indices, frozen_stages, drop_path_rate):
    """Check :class:`RegNet`'s arguments for an arch of ``num_stages``
    stages, raising naming the bad one; returns ``(strides, dilations,
    out_indices)`` as tuples with the defaults filled in and non-negative,
    sorted ``out_indices``."""
    check_int('in_channels', in_channels, minimum=1)
    check_int('stem_channels', stem_channels, minimum=1)
    strides = _check_int_tuple('strides', strides or (2, ) * num_stages,
                               num_stages, 1)
    dilations = _check_int_tuple('dilations', dilations or
                                 (1, ) * num_stages, num_stages, 1)
    if out_indices is None:
        out_indices = (num_stages - 1, )
    out_indices = tuple(out_indices)
    if not out_indices or any(
            isinstance(i, bool) or not isinstance(i, int)
            or not -num_stages <= i < num_stages for i in out_indices):
        raise ValueError(f'out_indices must be stage indices in '
                         f'[{-num_stages}, {num_stages - 1}], got '
                         f'out_indices={out_indices!r}')
    check_int('frozen_stages', frozen_stages, minimum=-1)
    if frozen_stages > num_stages:
        raise ValueError(f'frozen_stages must be in [-1, {num_stages}], '
                         f'got frozen_stages={frozen_stages!r}')
    if not 0 <= drop_path_rate < 1:
        raise ValueError('drop_path_rate must be in [0, 1), got '
                         f'{drop_path_rate!r}')
    out_indices = tuple(sorted({i % num_stages for i in out_indices}))
    return strides, dilations, out_indices


def _drop_path_rates(rate: float,
                     stage_blocks: Sequence[int]) -> List[List[float]]:
    """Stochastic-depth rate of every block, per stage: rising linearly from
    0 at the first block to ``rate`` at the last."""
    last = max(sum(stage_blocks) - 1, 1)
    firsts = itertools.accumulate((0, ) + tuple(stage_blocks[:-1]))
    return [[rate * (first + j) / last for j in range(depth)]
            for first, depth in zip(firsts, stage_blocks)]


#: Kaiming (fan_out) convolutions and unit norms.
DEFAULT_INIT_CFG = [
    dict(type='Kaiming', layer='Conv2d', mode='fan_out', nonlinearity='relu'),
    dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
]


@MODELS.register_module()
class RegNet(BaseModule):
    """RegNetX / RegNetY backbone ("Designing Network Design Spaces").

    Args:
        arch (str | dict | RegNetParams | AnyNetParams): a published arch
            name such as ``'regnetx_400mf'`` or ``'regnety_1.6gf'`` (see
            ``mmregnet.design.NAMED_ARCHS``: the 24 of pycls and SEER's
            ``'regnety_64gf'``, ``'regnety_128gf'``, ``'regnety_256gf'``,
            ``'regnety_10b'``), design parameters
            ``dict(w0, wa, wm, depth, group_w, bot_mul=1.0, se_ratio=0.0)``
            or explicit stages ``dict(depths, widths, group_widths,
            bot_muls=1.0, se_ratio=0.0)`` (an AnyNet, e.g. from
            ``mmregnet.design.scale``; ``width_rounding`` does not apply).
        in_channels (int): input image channels. Defaults to 3.
        stem_channels (int): width of the 3x3 stride-2 stem. Defaults to 32.
        strides (Sequence[int], optional): stride of each stage's first
            block; defaults to 2 for every stage.
        dilations (Sequence[int], optional): dilation of each stage's 3x3
            convolutions; with ``strides=(2, 2, 2, 1), dilations=(1, 1, 1, 2)``
            the output stride is 16, with ``(2, 2, 1, 1), (1, 1, 2, 4)`` 8.
        out_indices (Sequence[int], optional): stages whose outputs are
            returned (negative indices count from the end); defaults to the
            last stage.
        frozen_stages (int): -1 freezes nothing, 0 the stem, k the stem and
            the first k stages (no gradients, norm layers in eval mode).
        width_rounding (str): how bottleneck widths are made multiples of the
            group width: ``'pycls'`` (the paper's code) or ``'torchvision'``.
        norm_cfg (dict): norm layer config. Defaults to BN.
        act_cfg (dict): activation config. Defaults to in-place ReLU.
        norm_eval (bool): keep norm layers in eval mode while training.
        with_cp (bool): activation checkpointing per block (less memory).
        zero_init_residual (bool): zero the last norm of each block.
        drop_path_rate (float): stochastic depth, rising linearly from 0 at
            the first block to this rate at the last.
        deploy (bool): build the deploy-mode model (norms folded into the
            convolutions, see :meth:`switch_to_deploy`), e.g. to load a
            checkpoint written by ``tools/deployment/reparameterize_model.py``.
        init_cfg (dict | list[dict], optional): initialisation config;
            defaults to :data:`DEFAULT_INIT_CFG`.

    Shapes: (N, in_channels, H, W) -> a tuple with one
    (N, stage_widths[i], H / stride_i, W / stride_i) map per ``out_indices``.
    """

    def __init__(self,
                 arch: ArchLike,
                 in_channels: int = 3,
                 stem_channels: int = 32,
                 strides: Optional[Sequence[int]] = None,
                 dilations: Optional[Sequence[int]] = None,
                 out_indices: Optional[Sequence[int]] = None,
                 frozen_stages: int = -1,
                 width_rounding: str = 'pycls',
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU', inplace=True),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 drop_path_rate: float = 0.,
                 deploy: bool = False,
                 init_cfg=None):
        super().__init__(DEFAULT_INIT_CFG if init_cfg is None else init_cfg)
        self.arch = resolve_arch(arch)
        self.width_rounding = width_rounding
        #: per-stage widths, depths and group widths (``w_i, d_i, g_i``)
        self.stage_specs: Tuple[StageSpec, ...] = stage_specs(
            self.arch, rounding=width_rounding)
        self.strides, self.dilations, self.out_indices = _check_arguments(
            len(self.stage_specs), in_channels, stem_channels, strides,
            dilations, out_indices, frozen_stages, drop_path_rate)
        self.in_channels = in_channels
        self.stem_channels = stem_channels
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.zero_init_residual = zero_init_residual

        self.conv1 = nn.Conv2d(
            in_channels, stem_channels, 3, stride=2, padding=1, bias=False)
        self.bn1 = _norm(norm_cfg, stem_channels)
        self.relu = build_activation_layer(act_cfg)

        block_cfg = dict(norm_cfg=norm_cfg, act_cfg=act_cfg, with_cp=with_cp)
        rates = _drop_path_rates(drop_path_rate, self.stage_blocks)
        self.res_layers = [f'layer{i + 1}' for i in range(len(rates))]
        for i, name in enumerate(self.res_layers):
            self.add_module(name, self._make_stage(i, rates[i], **block_cfg))

        self.deploy = False
        #: deploy mode's CPU execution plan (:mod:`mmregnet.deploy.plan`)
        self.deploy_plan = None
        if deploy:
            self._fold_norms()
        self._freeze_stages()

    def _make_stage(self, index: int, drop_path_rates: Sequence[float],
                    **block_cfg) -> nn.Sequential:
        """Stage ``index``: ``d_i`` blocks of width ``w_i``; the first takes
        the stem's or the previous stage's output and has the stride."""
        spec = self.stage_specs[index]
        in_width = self.stage_widths[index - 1] if index else \
            self.stem_channels
        blocks = []
        for j, drop_path_rate in enumerate(drop_path_rates):
            width_in = in_width if j == 0 else spec.width
            blocks.append(
                RegNetBlock(
                    width_in,
                    spec.width,
                    spec.bottleneck_width,
                    spec.groups,
                    se_channels=spec.se_width(width_in),
                    stride=self.strides[index] if j == 0 else 1,
                    dilation=self.dilations[index],
                    drop_path_rate=drop_path_rate,
                    **block_cfg))
        return nn.Sequential(*blocks)

    @property
    def stage_widths(self) -> Tuple[int, ...]:
        """Output channels of every stage."""
        return tuple(spec.width for spec in self.stage_specs)

    @property
    def stage_blocks(self) -> Tuple[int, ...]:
        """Number of blocks of every stage."""
        return tuple(spec.depth for spec in self.stage_specs)

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of the returned feature maps (e.g. an FPN's
        ``in_channels``)."""
        return tuple(self.stage_widths[i] for i in self.out_indices)

    def complexity(self,
                   input_size=224,
                   num_classes: int = 0) -> Complexity:
        """Analytic params / multiply-adds / activations of this backbone
        (plus a linear head if ``num_classes``), without running it."""
        return complexity(
            self.stage_specs,
            input_size=input_size,
            num_classes=num_classes,
            in_channels=self.in_channels,
            stem_channels=self.stem_channels,
            strides=self.strides,
            dilations=self.dilations)

    def init_weights(self):
        super().init_weights()
        pretrained = isinstance(self.init_cfg, dict) and \
            self.init_cfg.get('type') == 'Pretrained'
        if self.zero_init_residual and not pretrained and not self.deploy:
            for module in self.modules():
                if isinstance(module, RegNetBlock):
                    nn.init.zeros_(module.bn3.weight)

    def _freeze_stages(self):
        stem = [self.conv1] if self.deploy else [self.conv1, self.bn1]
        frozen = stem if self.frozen_stages >= 0 else []
        frozen += [
            getattr(self, name)
            for name in self.res_layers[:max(self.frozen_stages, 0)]
        ]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def switch_to_deploy(self):
        """Fold every BatchNorm into its convolution, for inference.

        Outputs stay equal (up to float rounding); the stem and every block
        become conv + bias (+ residual) + activation, which on CPU run as
        fused oneDNN kernels in the execution plan of
        :class:`~mmregnet.deploy.plan.OneDNNPlan`. The norms must be
        BatchNorms in eval mode (``RuntimeError`` otherwise: call
        ``model.eval()`` first). The state dict changes to the deploy format
        (see the module docstring); build ``RegNet(..., deploy=True)`` to
        load it. Idempotent.
        """
        if not self.deploy:
            check_deployable(self)
            self._fold_norms()

    def _fold_norms(self):
        self.conv1 = fuse_conv_bn(self.conv1, self.bn1, self.relu)
        del self.bn1
        for name in self.res_layers:
            for block in getattr(self, name):
                block._fold_norms()
        self.deploy = True
        if isinstance(self.relu, nn.ReLU):  # oneDNN's fused activation
            self.deploy_plan = OneDNNPlan(
                (2, ) + self.strides, blocked_layout=not self.arch.se_ratio)

    def _stem(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        return x if self.deploy else self.relu(self.bn1(x))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if self.deploy_plan is not None and self.deploy_plan.applies_to(x):
            stages = [self._stem] + [getattr(self, n) for n in self.res_layers]
            return self.deploy_plan.run(stages, self.out_indices, x)
        x = self._stem(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def get_layer_depth(self, param_name: str, prefix: str = ''):
        """Layer id for layer-wise learning-rate decay: the stem is 0, the
        blocks 1..N in network order and anything outside ``prefix`` (the
        head) N + 1. Returns ``(layer_id, N + 2)``."""
        num_layers = sum(self.stage_blocks) + 2
        if not param_name.startswith(prefix):
            return num_layers - 1, num_layers
        name = param_name[len(prefix):]
        if name.startswith('layer'):
            stage, block = name.split('.')[:2]
            stage_index = int(stage[len('layer'):]) - 1
            return sum(self.stage_blocks[:stage_index]) + int(block) + 1, \
                num_layers
        return 0, num_layers
