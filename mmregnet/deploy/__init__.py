"""The deploy runtime: what runs a trained RegNet fast, beside
:mod:`mmregnet.models` (what the network is).

- :mod:`.fused`: BatchNorm folding and the fused oneDNN convolution kernels
  (:class:`FusedConv2d`, :func:`fuse_conv_bn`, :func:`switch_to_deploy`);
- :mod:`.plan`: the CPU execution plan of a deployed backbone
  (:class:`OneDNNPlan`: micro-batches, oneDNN's blocked layout);
- :mod:`.quantize` and :mod:`.int8_runtime`: int8 post-training
  quantization with onnxruntime and its artifacts (:func:`quantize_int8`,
  :class:`Int8Model`, :class:`Int8Classifier`), imported on first use of
  their names.

The backbone's ``switch_to_deploy()`` / ``deploy=True`` uses the first two;
the names stay importable from :mod:`mmregnet.models` as well.
"""
from ..lazy import lazy_names
from .fused import FusedConv2d, fuse_conv_bn, switch_to_deploy
from .plan import OneDNNPlan

_LAZY = {
    'Int8Classifier': '.int8_runtime',
    'Int8Model': '.int8_runtime',
    'quantize_int8': '.quantize',
}
__getattr__ = lazy_names(__name__, _LAZY)

__all__ = [
    'FusedConv2d', 'fuse_conv_bn', 'switch_to_deploy', 'OneDNNPlan', *_LAZY
]
