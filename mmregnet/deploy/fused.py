"""Deploy-mode building blocks: convolutions with their BatchNorm folded in
and their activation (and a residual sum) fused, and the oneDNN kernels they
run on for CPU inference.

A deployed RegNet is made of :class:`FusedConv2d` s. On CPU, in float32 (and
bfloat16 where oneDNN computes it, see :func:`onednn_dtypes`), without
autograd and outside ``torch.compile`` / export, they call oneDNN's fused
convolution (``torch.ops.mkldnn._convolution_pointwise``): bias, activation
and residual sum are post-ops of the convolution kernel, weights are
reordered once into the kernel's layout, and activations stay in either
channels_last or oneDNN's blocked layout (``x.is_mkldnn``) between layers.
Anywhere else (float16, CUDA, autograd, ``torch.compile``, ONNX export) they
are a plain ``conv2d + add + activation``. The oneDNN ops are private to
torch: they are looked up on first use, and a torch build without them runs
the plain path. Norms fold in float32 whatever the model's dtype.
"""
import functools
from typing import NamedTuple, Optional

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

# activations oneDNN applies as a post-op of the convolution
_ONEDNN_ACTS = {nn.ReLU: 'relu'}


class OneDNNOps(NamedTuple):
    """torch's private oneDNN ops that the fused path calls."""
    conv: object  # act(conv(x) + bias)
    conv_add: object  # act(conv(x) + bias + residual), dense input only
    reorder_weight: object  # weight -> the kernel's layout for an input


@functools.lru_cache(maxsize=None)
def onednn_ops() -> Optional[OneDNNOps]:
    """The oneDNN ops of this torch build, or None if it lacks them (no
    oneDNN, or ops renamed or removed); looked up once, on first use."""
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        ops = torch.ops.mkldnn
        return OneDNNOps(ops._convolution_pointwise.default,
                         ops._convolution_pointwise.binary,
                         ops._reorder_convolution_weight)
    except (AttributeError, RuntimeError):
        return None


@functools.lru_cache(maxsize=None)
def onednn_dtypes() -> frozenset:
    """The dtypes the fused oneDNN path takes on this CPU: float32, and
    bfloat16 where torch runs its bfloat16 convolutions on oneDNN (CPUs with
    AVX-512 or AMX: native with avx512_bf16 / AMX, else converted in
    registers). Elsewhere (AVX2-only) bfloat16 takes the plain path."""
    if onednn_ops() is None:
        return frozenset()
    try:
        bf16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    except (AttributeError, RuntimeError):
        bf16 = False
    return frozenset({torch.float32, torch.bfloat16} if bf16 else
                     {torch.float32})


def onednn_eligible(x: torch.Tensor) -> bool:
    """Whether inference on ``x`` may use the oneDNN fused kernels: a CPU
    tensor of one of :func:`onednn_dtypes`, no autograd, not traced
    (torch.compile, export, jit / ONNX tracing), and a torch build with the
    oneDNN ops."""
    return (not torch.is_grad_enabled() and x.device.type == 'cpu'
            and x.dtype in onednn_dtypes() and torch.backends.mkldnn.enabled
            and not torch.compiler.is_compiling()
            and not torch.jit.is_tracing())


class FusedConv2d(nn.Conv2d):
    """``act(conv(x) + bias [+ residual])``: a Conv2d (always with bias)
    carrying the activation that follows it.

    Shapes: x (N, C_in, H, W), residual (N, C_out, H', W') ->
    (N, C_out, H', W'). State-dict keys are ``weight`` and ``bias``, as for
    ``nn.Conv2d``. Takes the oneDNN path for dense channels_last and for
    oneDNN blocked (``x.is_mkldnn``) input when :func:`onednn_eligible`;
    blocked input gives blocked output.
    """

    def __init__(self, *args, act: Optional[nn.Module] = None, **kwargs):
        super().__init__(*args, bias=True, **kwargs)
        self.act = act
        # oneDNN's name of the activation post-op, None if it has none
        self.onednn_attr = 'none' if act is None else _ONEDNN_ACTS.get(
            type(act))
        self._packed = None  # (weight version key, prepacked weight)

    def _prepacked_weight(self, x: torch.Tensor) -> torch.Tensor:
        """The weight reordered once into the kernel's layout for inputs
        like ``x`` (any shape works; the layout is chosen for this one).
        Rebuilt when the weight changes (in place, loaded, moved)."""
        weight = self.weight
        key = (weight.data_ptr(),
               -1 if weight.is_inference() else weight._version)
        if self._packed is None or self._packed[0] != key:
            packed = onednn_ops().reorder_weight(
                weight.detach(), self.padding, self.stride, self.dilation,
                self.groups, list(x.shape))
            self._packed = (key, packed)
        return self._packed[1]

    def _onednn(self, x, residual):
        ops = onednn_ops()
        geometry = (self.padding, self.stride, self.dilation, self.groups)
        if x.is_mkldnn:
            # the blocked-layout kernels take plain weights and no sum
            # post-op: add the residual in place, then activate in place
            if residual is None:
                return ops.conv(x, self.weight, self.bias, *geometry,
                                self.onednn_attr, [], '')
            out = ops.conv(x, self.weight, self.bias, *geometry, 'none', [],
                           '')
            out.add_(residual)
            return out if self.act is None else out.relu_()
        weight = self._prepacked_weight(x)
        if residual is None:
            return ops.conv(x, weight, self.bias, *geometry,
                            self.onednn_attr, [], '')
        return ops.conv_add(x, residual, weight, self.bias, *geometry, 'add',
                            1.0, self.onednn_attr, [], '')

    def forward(self,
                x: torch.Tensor,
                residual: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.onednn_attr is not None and (
                x.is_mkldnn or
                (onednn_eligible(x)
                 and x.is_contiguous(memory_format=torch.channels_last))):
            return self._onednn(x, residual)
        out = super().forward(x)
        if residual is not None:
            out = out + residual
        return out if self.act is None else self.act(out)

    def _apply(self, fn, *args, **kwargs):
        self._packed = None
        return super()._apply(fn, *args, **kwargs)

    def _load_from_state_dict(self, *args, **kwargs):
        self._packed = None
        super()._load_from_state_dict(*args, **kwargs)

    def __getstate__(self):
        # the prepacked weight is a cache (an opaque oneDNN tensor that
        # neither pickles nor deep-copies); rebuilt on first use
        state = self.__dict__.copy()
        state['_packed'] = None
        return state


def check_deployable(module: nn.Module) -> None:
    """Raise unless every norm layer in ``module`` can be folded: a
    BatchNorm in eval mode (folding uses its running statistics)."""
    for name, norm in module.named_modules():
        if isinstance(norm, (nn.GroupNorm, nn.LayerNorm, _InstanceNorm)):
            raise NotImplementedError(
                f'switch_to_deploy folds BatchNorm into convolutions; {name} '
                f'is a {type(norm).__name__}, which depends on its input')
        if isinstance(norm, _BatchNorm) and norm.training:
            raise RuntimeError(
                'switch_to_deploy folds the running statistics of BatchNorm '
                f'into the convolutions, for inference only; {name} is in '
                'training mode: call model.eval() first')


def fuse_conv_bn(conv: nn.Conv2d,
                 norm: Optional[_BatchNorm] = None,
                 act: Optional[nn.Module] = None) -> FusedConv2d:
    """One :class:`FusedConv2d` equal to ``act(norm(conv(x)))`` in eval mode.

    ``norm(y) = (y - mean) * gamma / sqrt(var + eps) + beta`` is linear per
    channel, so it folds into the weight (scaled per output channel) and the
    bias; ``norm=None`` only copies the convolution.
    """
    weight = conv.weight.detach().clone()
    bias = torch.zeros_like(weight[:, 0, 0, 0]) if conv.bias is None else \
        conv.bias.detach().clone()
    dtype = weight.dtype  # folded in float32 (or float64), stored in dtype
    if dtype in (torch.float16, torch.bfloat16):
        weight, bias = weight.float(), bias.float()
    if norm is not None:
        if not isinstance(norm, _BatchNorm) or norm.running_var is None:
            raise NotImplementedError(
                f'only BatchNorm with running statistics folds, got {norm}')
        scale = norm.running_var.detach().to(weight).add(norm.eps).rsqrt()
        if norm.weight is not None:
            scale = scale * norm.weight.detach().to(weight)
        bias = (bias - norm.running_mean.detach().to(weight)) * scale
        if norm.bias is not None:
            bias = bias + norm.bias.detach().to(weight)
        weight = weight * scale.reshape(-1, 1, 1, 1)
    fused = FusedConv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        act=act,
        device='meta')
    trainable = conv.weight.requires_grad
    fused.weight = nn.Parameter(weight.to(dtype), requires_grad=trainable)
    fused.bias = nn.Parameter(bias.to(dtype), requires_grad=trainable)
    return fused


def switch_to_deploy(model: nn.Module) -> nn.Module:
    """Switch every sub-module of ``model`` that can be re-parameterised
    (has ``switch_to_deploy``, e.g. ``mmregnet.RegNet`` or mmpretrain's
    RepVGG) to deploy mode, e.g. the backbone of an ``ImageClassifier`` or a
    detector. Call on a model in eval mode. Returns ``model``."""
    for module in list(model.modules()):
        if hasattr(module, 'switch_to_deploy') and \
                not getattr(module, 'deploy', False):
            module.switch_to_deploy()
    return model
