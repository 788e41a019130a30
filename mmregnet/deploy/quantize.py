"""int8 post-training quantization: :func:`quantize_int8`.

The float model is deployed (BatchNorm folded, :func:`switch_to_deploy`),
exported to ONNX with a dynamic batch, and quantized statically by
onnxruntime: QDQ format, int8 weights per output channel with a 7-bit
range, uint8 activations whose ranges are the min / max seen on the
calibration batches. The 7-bit weight range keeps onnxruntime's AVX2
int8 kernels (``vpmaddubsw``, 16-bit intermediate sums) from saturating,
so that one artifact computes the same on AVX2 and AVX-512 VNNI CPUs.
mmregnet's performance guide (its documentation) says why this route and
what it gains.
"""
import copy
import itertools
import os.path as osp
import tempfile
import warnings
from typing import Iterable

import torch
import torch.nn as nn

from .fused import switch_to_deploy
from .int8_runtime import INPUT_NAME, Int8Model, import_onnxruntime


class _TensorForward(nn.Module):
    """``forward(x)``: a classifier's ``model(x, mode='tensor')`` or a
    backbone's ``model(x)``, lists made tuples."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.classifier = _is_classifier(model)

    def forward(self, x):
        out = self.model(x, mode='tensor') if self.classifier else \
            self.model(x)
        return tuple(out) if isinstance(out, (list, tuple)) else out


def _is_classifier(model: nn.Module) -> bool:
    from mmengine.model import BaseModel
    return isinstance(model, BaseModel)


def _check_batch(index: int, batch) -> torch.Tensor:
    if not isinstance(batch, torch.Tensor) or batch.dim() != 4 or \
            not batch.is_floating_point():
        raise ValueError(
            f'calibration batch {index} is '
            f'{getattr(batch, "shape", type(batch).__name__)}: each must be '
            'a preprocessed (N, C, H, W) float tensor')
    return batch.detach().to('cpu', torch.float32)


def quantize_int8(model: nn.Module,
                  calib_inputs: Iterable[torch.Tensor]) -> Int8Model:
    """An int8 copy of ``model`` calibrated on ``calib_inputs``.

    Args:
        model: an eval-mode classifier (an mmengine ``BaseModel`` such as
            mmpretrain's ``ImageClassifier``) or backbone; left unchanged.
        calib_inputs: batches of preprocessed images, (N, C, H, W) float
            tensors of one image size (the data preprocessor's output): a
            few hundred images of the training data are plenty.

    Returns:
        An :class:`~mmregnet.deploy.int8_runtime.Int8Model` whose
        ``forward(x)`` returns what ``model(x, mode='tensor')`` (classifier)
        or ``model(x)`` (backbone) returns; :meth:`Int8Model.save` writes
        it as a ``.onnx`` artifact.
    """
    import_onnxruntime()
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    if not isinstance(model, nn.Module):
        raise TypeError(f'quantize_int8 takes an nn.Module, not '
                        f'{type(model).__name__}')
    if model.training:
        raise ValueError('quantize_int8 needs an eval-mode model (it folds '
                         'BatchNorm statistics): call model.eval() first')
    batches = (_check_batch(i, b) for i, b in enumerate(calib_inputs))
    first = next(batches, None)
    if first is None:
        raise ValueError('calib_inputs is empty: give at least one batch of '
                         'preprocessed images (N, C, H, W)')
    # the calibration batches and onnxruntime are CPU float32
    forward = _TensorForward(
        switch_to_deploy(copy.deepcopy(model).cpu().float()).eval())
    with torch.no_grad():
        tuple_output = isinstance(forward(first), tuple)

    class Batches(CalibrationDataReader):

        def __init__(self):
            self.batches = itertools.chain([first], batches)

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {INPUT_NAME: batch.numpy()}

    with tempfile.TemporaryDirectory() as folder:
        exported, prepared, quantized = (
            osp.join(folder, f'{name}.onnx')
            for name in ('fp32', 'prepared', 'int8'))
        _export(forward, first, exported)
        quant_pre_process(exported, prepared)
        quantize_static(
            prepared,
            quantized,
            Batches(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8)
        with open(quantized, 'rb') as f:
            onnx_model = f.read()
    return Int8Model(onnx_model, dict(tuple_output=tuple_output))


def _export(forward: nn.Module, example: torch.Tensor, path: str) -> None:
    """``forward`` to ONNX at ``path``: input ``input``, batch dynamic."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')
        torch.onnx.export(
            forward, (example, ),
            path,
            input_names=[INPUT_NAME],
            dynamic_shapes={'x': {
                0: torch.export.Dim('batch')
            }},
            dynamo=True,
            verbose=False)
