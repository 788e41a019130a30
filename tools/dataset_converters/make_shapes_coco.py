"""Write a small COCO-format detection / instance-segmentation dataset of
drawn shapes, for trying detectors without downloading anything.

    python tools/dataset_converters/make_shapes_coco.py data/shapes

Layout (what mmdet's ``CocoDataset`` reads)::

    data/shapes/
        annotations/instances_train.json, instances_val.json
        train/000000.png ...   val/000000.png ...

Each image holds 1-4 non-overlapping objects of three classes (``square``,
``disc``, ``triangle``) in random colours on a noisy background; every
object has a box (``[x, y, w, h]``), a polygon and its polygon's area.
The same seed writes the same files.
"""
import argparse
import json
import math
import os.path as osp
from pathlib import Path

import numpy as np

from mmregnet.engine import atomic_write

CLASSES = ('square', 'disc', 'triangle')


def _polygon(kind: str, cx: float, cy: float, radius: float) -> np.ndarray:
    """Outline of a shape centred at (cx, cy) as an (N, 2) float array."""
    if kind == 'square':
        angles = np.deg2rad([45, 135, 225, 315])
    elif kind == 'triangle':
        angles = np.deg2rad([-90, 30, 150])
    else:  # disc, as a 24-gon
        angles = np.linspace(0, 2 * math.pi, 24, endpoint=False)
    return np.stack([cx + radius * np.cos(angles),
                     cy + radius * np.sin(angles)], axis=1)


def _polygon_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)


def _draw_image(rng: np.random.Generator, size: int):
    """One image (H x W x 3 uint8) and its objects (class, polygon)."""
    import cv2
    image = rng.integers(90, 166, (size, size, 3), dtype=np.uint8)
    image = cv2.GaussianBlur(image, (5, 5), 0)
    objects, placed = [], []
    for _ in range(rng.integers(1, 5)):
        radius = rng.uniform(0.08, 0.2) * size
        for _attempt in range(20):
            cx, cy = rng.uniform(radius + 1, size - radius - 1, 2)
            if all(math.hypot(cx - x, cy - y) > radius + r + 2
                   for x, y, r in placed):
                break
        else:
            continue
        placed.append((cx, cy, radius))
        label = int(rng.integers(len(CLASSES)))
        points = _polygon(CLASSES[label], cx, cy, radius)
        colour = [int(c) for c in rng.integers(0, 256, 3)]
        while max(colour) - min(colour) < 80:  # keep it off the grey ground
            colour = [int(c) for c in rng.integers(0, 256, 3)]
        cv2.fillPoly(image, [np.round(points).astype(np.int32)], colour)
        objects.append((label, points))
    return image, objects


def _coco_split(rng, folder: Path, count: int, size: int) -> dict:
    import cv2
    images, annotations = [], []
    for index in range(count):
        image, objects = _draw_image(rng, size)
        file_name = f'{index:06d}.png'
        ok, png = cv2.imencode('.png', image)
        assert ok, file_name
        atomic_write(png.tobytes(), folder / file_name)
        images.append(dict(id=index, file_name=file_name, width=size,
                           height=size))
        for label, points in objects:
            x0, y0 = points.min(0)
            x1, y1 = points.max(0)
            annotations.append(
                dict(id=len(annotations) + 1, image_id=index,
                     category_id=label + 1, iscrowd=0,
                     bbox=[round(float(v), 2)
                           for v in (x0, y0, x1 - x0, y1 - y0)],
                     area=round(_polygon_area(points), 2),
                     segmentation=[[round(float(v), 2)
                                    for v in points.ravel()]]))
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(CLASSES)]
    return dict(images=images, annotations=annotations,
                categories=categories)


def make_shapes_coco(root, num_train: int = 240, num_val: int = 60,
                     image_size: int = 160, seed: int = 0) -> dict:
    """Write the dataset under ``root``; returns the number of images and
    objects per split."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    counts = {}
    for split, count in (('train', num_train), ('val', num_val)):
        coco = _coco_split(rng, root / split, count, image_size)
        atomic_write(json.dumps(coco),
                     root / 'annotations' / f'instances_{split}.json')
        counts[split] = (len(coco['images']), len(coco['annotations']))
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='output folder, e.g. data/shapes')
    parser.add_argument('--num-train', type=int, default=240)
    parser.add_argument('--num-val', type=int, default=60)
    parser.add_argument('--image-size', type=int, default=160)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    counts = make_shapes_coco(args.root, args.num_train, args.num_val,
                              args.image_size, args.seed)
    for split, (images, objects) in counts.items():
        print(f'{split}: {images} images, {objects} objects -> '
              f'{osp.join(args.root, split)}')


if __name__ == '__main__':
    main()
