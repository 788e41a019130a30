"""Convert a Hugging Face transformers RegNet (a save_pretrained folder or a
Hub repo id) into an mmregnet checkpoint and its config::

    python tools/model_converters/hf2mmregnet.py SRC DST
"""
import sys

from mmregnet.converters.hf import import_main

if __name__ == '__main__':
    sys.exit(import_main())
