"""Convert a vissl / classy-vision RegNet checkpoint (the SEER originals)
into mmregnet's format:
`python tools/model_converters/vissl2mmregnet.py SRC DST [--arch ARCH]`."""
import sys

from mmregnet.converters import main

if __name__ == '__main__':
    sys.exit(main('vissl'))
