from .backbones import RegNet
from .fused import FusedConv2d, fuse_conv_bn, switch_to_deploy

__all__ = ['RegNet', 'FusedConv2d', 'fuse_conv_bn', 'switch_to_deploy']
