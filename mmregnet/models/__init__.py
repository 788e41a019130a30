"""What the network is: the RegNet backbone. The deploy runtime's public
names (:mod:`mmregnet.deploy`) are re-exported here too."""
from ..deploy import (FusedConv2d, Int8Classifier, Int8Model, fuse_conv_bn,
                      quantize_int8, switch_to_deploy)
from .backbones import RegNet
from .loading import CheckpointMismatchError, exact_loading

__all__ = [
    'RegNet', 'FusedConv2d', 'fuse_conv_bn', 'switch_to_deploy',
    'Int8Classifier', 'Int8Model', 'quantize_int8', 'CheckpointMismatchError',
    'exact_loading'
]
