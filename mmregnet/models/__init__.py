"""What the network is: the RegNet backbone. The deploy runtime's public
names (:mod:`mmregnet.deploy`) and the checkpoint fit of :mod:`.loading`
import from here too, on first use: importing the backbone loads neither
the int8 runtime nor the loader."""
from ..lazy import lazy_names
from .backbones import RegNet

_LAZY = {
    **dict.fromkeys(('FusedConv2d', 'fuse_conv_bn', 'switch_to_deploy',
                     'Int8Classifier', 'Int8Model', 'quantize_int8'),
                    '..deploy'),
    **dict.fromkeys(('CheckpointMismatchError', 'exact_loading'),
                    '.loading'),
}
__getattr__ = lazy_names(__name__, _LAZY)

__all__ = ['RegNet', *_LAZY]
