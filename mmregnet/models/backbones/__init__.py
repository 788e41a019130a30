from .regnet import RegNet

__all__ = ['RegNet']
