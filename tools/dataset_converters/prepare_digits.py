"""Write scikit-learn's bundled handwritten digits (1,797 8x8 images, 10
classes; no download) as an mmpretrain CustomDataset:

    OUT/train/<digit>/<index>.png   80 % (1,437 images), stratified
    OUT/val/<digit>/<index>.png     20 % (360 images)

Images are upscaled to 32x32 RGB PNGs. The split is fixed (seed 0), and a
finished folder (marked by OUT/.complete) is left as it is.
"""
import argparse
import os
import os.path as osp
import shutil

import numpy as np
from PIL import Image

SIZE = 32


def prepare(out_dir: str, seed: int = 0) -> dict:
    """Write the dataset, returning the number of images per split."""
    marker = osp.join(out_dir, '.complete')
    if osp.exists(marker):
        return {
            split: sum(len(files) for _, _, files in os.walk(
                osp.join(out_dir, split)))
            for split in ('train', 'val')
        }
    shutil.rmtree(out_dir, ignore_errors=True)
    # scikit-learn takes longer to import than the folder-exists check above
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    images = (digits.images * (255 / 16)).round().astype(np.uint8)
    indices = np.arange(len(images))
    train, val = train_test_split(
        indices, test_size=0.2, stratify=digits.target, random_state=seed)
    for split, split_indices in (('train', train), ('val', val)):
        for index in split_indices:
            folder = osp.join(out_dir, split, str(digits.target[index]))
            os.makedirs(folder, exist_ok=True)
            image = Image.fromarray(images[index]).resize(
                (SIZE, SIZE), Image.BILINEAR).convert('RGB')
            image.save(osp.join(folder, f'{index:04d}.png'))
    open(marker, 'w').close()
    return {'train': len(train), 'val': len(val)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out_dir', nargs='?', default='data/digits')
    args = parser.parse_args()
    counts = prepare(args.out_dir)
    print(f'digits in {args.out_dir}: {counts["train"]} train, '
          f'{counts["val"]} val images')


if __name__ == '__main__':
    main()
