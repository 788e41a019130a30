"""Training speed: channels_last layout, bf16 autocast on CPUs that compute
in bf16 natively, and ``torch.compile``, as ``tools/train.py`` applies them.

- :class:`ChannelsLastHook` (in the base runtimes' ``default_hooks``; off
  with ``default_hooks.channels_last.enabled=False``) keeps the model's 4-D
  parameters and the data preprocessor's image batches in channels_last
  (NHWC) memory, which oneDNN's and cuDNN's convolutions run fastest, and
  writes the weights of every checkpoint in the usual contiguous (NCHW)
  layout, so checkpoints do not depend on how they were trained.
- :class:`CPUBF16OptimWrapper` runs forward and loss under
  ``torch.autocast('cpu', torch.bfloat16)``; bf16 has fp32's exponent range,
  so no loss scaling. mmengine's ``AmpOptimWrapper`` refuses CPUs.
- :func:`configure_speed` turns ``--amp`` / ``--compile`` / ``--fsdp`` into
  config entries (``--fsdp``: :mod:`.fsdp`).
"""
from contextlib import contextmanager
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper

from ..model_index import is_detector
from ..registry import HOOKS, OPTIM_WRAPPERS
from .fsdp import configure_fsdp, configure_sharded, is_sharded

CPU_BF16 = 'mmregnet.CPUBF16OptimWrapper'
_NATIVE_BF16_FEATURES = ('amx_bf16', 'avx512_bf16')


def native_bf16_feature() -> Optional[str]:
    """The CPU feature (``'amx_bf16'`` or ``'avx512_bf16'``) with which this
    CPU multiplies bf16 natively, or None (then bf16 is emulated and slower
    than fp32)."""
    capability = getattr(torch._C._cpu, '_get_cpu_capability', None)
    if capability is None:  # older torch: its avx512_bf16 check only
        native = getattr(torch.cpu, '_is_avx512_bf16_supported', bool)()
        return 'avx512_bf16' if native else None
    return next((feature for feature in _NATIVE_BF16_FEATURES
                 if capability().get(feature)), None)


def configure_speed(cfg: Config,
                    amp: bool = False,
                    compile: bool = False,
                    fsdp: bool = False) -> Config:
    """Apply ``tools/train.py``'s ``--amp``, ``--compile`` and ``--fsdp`` to
    ``cfg``.

    ``fsdp``: :func:`~.fsdp.configure_fsdp` (``FlexibleRunner`` with
    ``RegNetFSDPStrategy``); a config that already shards is checked the
    same way (:func:`~.fsdp.configure_sharded`). ``amp``: sharded, the
    strategy's bf16 mixed precision; else on CUDA mmengine's
    ``AmpOptimWrapper`` (dynamic loss scaling unless the config sets
    ``loss_scale``), on a CPU with native bf16 :class:`CPUBF16OptimWrapper`.
    ``compile``: mmengine's ``compile`` runner option (``torch.compile`` of
    ``train_step``, inductor).

    Raises:
        ValueError: ``amp`` without CUDA on a CPU without native bf16, or
            for a detector on CPU; a sharded config that
            :func:`~.fsdp.configure_sharded` refuses.
    """
    if fsdp:
        configure_fsdp(cfg)
    if amp and not torch.cuda.is_available():
        _check_cpu_amp(cfg)
    if is_sharded(cfg):
        return configure_sharded(cfg, amp=amp, compile=compile)
    if amp:
        if torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            cfg.optim_wrapper.type = CPU_BF16
            for amp_only in ('loss_scale', 'dtype'):  # AmpOptimWrapper's
                cfg.optim_wrapper.pop(amp_only, None)
    if compile:
        cfg.compile = True
    return cfg


def _check_cpu_amp(cfg: Config) -> None:
    """Raise ValueError unless ``cfg`` can train in bf16 on this CPU."""
    if is_detector(cfg):
        raise ValueError(
            '--amp on CPU trains classifiers: mmdet\'s detectors call '
            'mmcv\'s CPU NMS and RoIAlign, which have no bf16 kernels; '
            'train detectors in fp32 on CPU (--amp works on CUDA)')
    if not native_bf16_feature():
        raise ValueError(
            '--amp needs a CUDA device or a CPU with native bf16 '
            f'({" or ".join(_NATIVE_BF16_FEATURES)}); this '
            f'{torch.backends.cpu.get_cpu_capability()} CPU has neither, '
            'and emulated bf16 trains slower than fp32')


@OPTIM_WRAPPERS.register_module()
class CPUBF16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward and loss run under bf16 autocast on
    CPU. Parameters, gradients and optimizer state stay fp32; no loss
    scaling (bf16 has fp32's exponent range)."""

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16):
            yield


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Train in channels_last memory; save NCHW-contiguous weights.

    ``before_run`` converts the model's parameters and buffers, makes the
    data preprocessor return its 4-D image batch (N, C, H, W) in
    channels_last and gives mmcv's ops (e.g. RoIAlign) dense NCHW inputs
    (:func:`guard_mmcv_ops`); ``before_save_checkpoint`` makes the checkpoint's
    ``state_dict`` and ``ema_state_dict`` tensors contiguous. Its priority
    puts it after ``EMAHook`` in both: the EMA copy (made in EMAHook's
    ``before_run``) stays NCHW, and the EMA weights it swaps into the
    checkpoint are made contiguous too. The optimizer state is saved as it
    is (a resumed run continues in the same layouts).

    Args:
        enabled (bool): False trains in the model's own layout (NCHW) and
            leaves checkpoints alone. Defaults to True.
    """
    priority = 'BELOW_NORMAL'

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._batch_hook = None

    def before_run(self, runner) -> None:
        if not self.enabled:
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        model.to(memory_format=torch.channels_last)
        guard_mmcv_ops(model)
        if self._batch_hook is None:
            self._batch_hook = model.data_preprocessor.register_forward_hook(
                _channels_last_batch)

    def after_run(self, runner) -> None:
        if self._batch_hook is not None:
            self._batch_hook.remove()
            self._batch_hook = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self.enabled:
            return
        for key in ('state_dict', 'ema_state_dict'):
            weights = checkpoint.get(key, {})
            for name, value in weights.items():
                if isinstance(value, torch.Tensor):
                    weights[name] = value.contiguous()


def guard_mmcv_ops(model: torch.nn.Module) -> None:
    """Give every mmcv op module in ``model`` (compiled kernels such as
    ``RoIAlign`` that index their input as dense NCHW memory) contiguous
    tensor inputs: channels_last feature maps would otherwise give wrong
    features. Idempotent."""
    for module in model.modules():
        if type(module).__module__.startswith('mmcv.ops.') and \
                not getattr(module, '_mmregnet_dense_inputs', False):
            module.register_forward_pre_hook(_dense_inputs)
            module._mmregnet_dense_inputs = True


def _dense_inputs(module, args):
    """Forward pre-hook: tensor arguments contiguous (NCHW)."""
    return tuple(
        arg.contiguous() if isinstance(arg, torch.Tensor) else arg
        for arg in args)


def _channels_last_batch(module, args, batch):
    """Forward hook of a data preprocessor: its 4-D ``inputs`` in
    channels_last."""
    inputs = batch.get('inputs') if isinstance(batch, dict) else None
    if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
        batch['inputs'] = inputs.contiguous(memory_format=torch.channels_last)
    return batch
