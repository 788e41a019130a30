"""Convert a torchvision RegNet checkpoint into mmregnet's format::

    python tools/model_converters/torchvision2mmregnet.py SRC DST [--arch A]
"""
import sys

from mmregnet.converters import main

if __name__ == '__main__':
    sys.exit(main('torchvision'))
