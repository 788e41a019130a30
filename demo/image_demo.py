"""Classify an image with an mmregnet model.

    python demo/image_demo.py IMAGE MODEL [--checkpoint CKPT] [--device cpu]

MODEL is a name from ``mmregnet.list_models()`` or a config file. Without
--checkpoint a named model uses its published checkpoint (downloaded once,
or read from ``MMREGNET_WEIGHTS_MIRROR``); offline, give the file as
--checkpoint.
"""
import argparse
import json
import sys

import mmpretrain.utils.progress

import mmregnet


def main():
    parser = argparse.ArgumentParser(description='Image classification demo')
    parser.add_argument('img', help='image file')
    parser.add_argument('model', help='model name or config file')
    parser.add_argument('--checkpoint', help='checkpoint file or URL')
    parser.add_argument('--device', default=None, help='e.g. cpu, cuda:0')
    args = parser.parse_args()
    mmpretrain.utils.progress.disable_progress_bar = True  # one-line output
    try:
        result = mmregnet.inference_model(
            args.model,
            args.img,
            pretrained=args.checkpoint or True,
            device=args.device)
    except ValueError as error:  # CheckpointError: no file, no download
        sys.exit(f'error: {error} (with this demo: --checkpoint FILE)')
    result.pop('pred_scores')
    print(json.dumps(result))


if __name__ == '__main__':
    main()
