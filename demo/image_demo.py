"""Classify an image with an mmregnet model.

    python demo/image_demo.py IMAGE MODEL [--checkpoint CKPT] [--device cpu]

MODEL is a name from ``mmregnet.list_models()`` or a config file. Without
--checkpoint a named model uses its published checkpoint.
"""
import argparse
import json

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
    result = mmregnet.inference_model(
        args.model,
        args.img,
        pretrained=args.checkpoint or True,
        device=args.device)
    result.pop('pred_scores')
    print(json.dumps(result))


if __name__ == '__main__':
    main()
