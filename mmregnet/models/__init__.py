from .backbones import RegNet

__all__ = ['RegNet']
