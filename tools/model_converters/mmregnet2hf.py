"""Write an mmregnet RegNet as a Hugging Face transformers model folder::

    python tools/model_converters/mmregnet2hf.py CONFIG CHECKPOINT OUT_DIR
"""
import sys

from mmregnet.converters.hf import export_main

if __name__ == '__main__':
    sys.exit(export_main())
