"""Convert a pycls RegNet checkpoint into mmregnet's format:
`python tools/model_converters/pycls2mmregnet.py SRC DST [--arch ARCH]`."""
import sys

from mmregnet.converters import main

if __name__ == '__main__':
    sys.exit(main('pycls'))
