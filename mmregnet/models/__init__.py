from .backbones import RegNet
from .fused import FusedConv2d, fuse_conv_bn, switch_to_deploy
from .int8_runtime import Int8Classifier, Int8Model
from .loading import CheckpointMismatchError, exact_loading
from .quantize import quantize_int8

__all__ = [
    'RegNet', 'FusedConv2d', 'fuse_conv_bn', 'switch_to_deploy',
    'Int8Classifier', 'Int8Model', 'quantize_int8', 'CheckpointMismatchError',
    'exact_loading'
]
