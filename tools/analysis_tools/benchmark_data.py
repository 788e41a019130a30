"""Images per second of a config's training pipeline, per data-loader
worker, on ImageNet-like JPEG files written for the purpose.

    python tools/analysis_tools/benchmark_data.py \\
        [CONFIG] [--images 512] [--workers 0 1 2] [--batch-size 64] \\
        [--epochs 2] [--image-dir DIR] [--json OUT]

CONFIG (default: the pycls ImageNet recipe,
``configs/_base_/datasets/imagenet_bs64_pycls.py``) gives
``train_pipeline``. ``--images`` JPEG files of ImageNet's typical shape
(500x375, a quarter of them portrait 375x500; quality 90; smooth random
content plus noise: about 110 KB, ImageNet's mean file size) are written to
``--image-dir`` (default: a temporary folder, removed afterwards) in two
class folders and read with mmpretrain's ``CustomDataset``. Two
measurements:

- per transform, in this process (OpenCV single-threaded, as mmengine's
  ``opencv_num_threads=0`` sets it in training): ms per image;
- through mmengine's data loader (``Runner.build_dataloader``, persistent
  workers) with each ``--workers`` count: images/s over ``--epochs``
  epochs, from the first batch on (worker start-up excluded); 0 workers is
  the pipeline in the main process.
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS, TRANSFORMS

from mmregnet.benchmarking import cpu_name
from mmregnet.engine import atomic_write, read_config

DEFAULT_CONFIG = 'configs/_base_/datasets/imagenet_bs64_pycls.py'


def write_jpegs(folder: Path, count: int, seed: int = 0) -> float:
    """``count`` JPEG files (quality 90) in ``folder/a`` and ``folder/b``;
    returns their mean size in KiB."""
    rng = np.random.default_rng(seed)
    sizes = []
    for index in range(count):
        width, height = (375, 500) if index % 4 == 3 else (500, 375)
        coarse = rng.integers(0, 256, (height // 16, width // 16, 3),
                              dtype=np.uint8)
        image = cv2.resize(coarse, (width, height),
                           interpolation=cv2.INTER_CUBIC).astype(np.float32)
        image += rng.normal(0, 20, image.shape)
        _, data = cv2.imencode('.jpg', image.clip(0, 255).astype(np.uint8),
                               [cv2.IMWRITE_JPEG_QUALITY, 90])
        path = folder / 'ab'[index % 2] / f'{index:06d}.jpg'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.tobytes())
        sizes.append(len(data))
    return statistics.mean(sizes) / 1024


def per_transform_ms(dataset_cfg: dict) -> dict:
    """ms per image of each transform of the pipeline, run one by one in
    this process over every image of the dataset."""
    dataset = DATASETS.build(dict(dataset_cfg, pipeline=[]))
    transforms = [TRANSFORMS.build(t) for t in dataset_cfg['pipeline']]
    totals = [0.0] * len(transforms)
    for index in range(len(dataset)):
        results = dataset.get_data_info(index)
        for position, transform in enumerate(transforms):
            start = time.perf_counter()
            results = transform(results)
            totals[position] += time.perf_counter() - start
    return {
        f'{position} {t["type"]}': 1e3 * total / len(dataset)
        for position, (t, total) in enumerate(
            zip(dataset_cfg['pipeline'], totals))
    }


def loader_images_per_s(dataset_cfg: dict, workers: int, batch_size: int,
                        epochs: int) -> float:
    """Images/s of mmengine's data loader after its first batch."""
    loader = Runner.build_dataloader(
        dict(batch_size=batch_size, num_workers=workers,
             persistent_workers=workers > 0, dataset=dataset_cfg,
             sampler=dict(type='DefaultSampler', shuffle=True)),
        seed=0)
    images, start = 0, None
    for _ in range(epochs):
        for batch in loader:
            if start is None:
                start = time.perf_counter()
            else:
                images += len(batch['inputs'])
    return images / (time.perf_counter() - start)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Images/s of a training pipeline per data-loader worker',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', nargs='?', default=DEFAULT_CONFIG,
                        help='a config with a train_pipeline')
    parser.add_argument('--images', type=int, default=512)
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--image-dir', default=None,
                        help='an empty or new folder for the JPEG files '
                        '(default: a temporary one, removed afterwards)')
    parser.add_argument('--json', help='write the results to this file')
    args = parser.parse_args(argv)
    if not Path(args.config).is_file():
        parser.error(f'no such config: {args.config}')
    for name in ('images', 'batch_size', 'epochs'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1, '
                         f'got {getattr(args, name)}')
    if args.images < 2 * args.batch_size:
        parser.error(f'--images {args.images} must be at least 2 batches '
                     f'(--batch-size {args.batch_size})')
    if min(args.workers) < 0:
        parser.error(f'--workers must be 0 or more, got {args.workers}')
    if args.image_dir and Path(args.image_dir).exists() and any(
            Path(args.image_dir).iterdir()):
        parser.error(f'--image-dir {args.image_dir} is not empty (the '
                     'dataset would read every image in it)')
    return args


def run(args, image_dir: Path) -> dict:
    cfg = read_config(args.config)
    if 'train_pipeline' not in cfg:
        raise ValueError(f'{args.config} has no train_pipeline')
    cv2.setNumThreads(0)
    mean_kib = write_jpegs(image_dir, args.images)
    dataset_cfg = dict(type='CustomDataset', data_root=str(image_dir),
                       pipeline=cfg.train_pipeline)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        transforms = per_transform_ms(dataset_cfg)
        rates = {
            workers: loader_images_per_s(dataset_cfg, workers,
                                         args.batch_size, args.epochs)
            for workers in args.workers
        }
    return dict(
        config=args.config, images=args.images, mean_file_kib=mean_kib,
        batch_size=args.batch_size, epochs=args.epochs,
        cpu=cpu_name(), nproc=torch.multiprocessing.cpu_count(),
        torch=torch.__version__, opencv=cv2.__version__,
        transform_ms_per_image=transforms,
        loader_images_per_s={str(w): r for w, r in rates.items()},
        images_per_s_per_worker={str(w): r / w for w, r in rates.items()
                                 if w})


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.image_dir:
            result = run(args, Path(args.image_dir))
        else:
            with tempfile.TemporaryDirectory() as folder:
                result = run(args, Path(folder))
    except ValueError as error:
        sys.exit(f'error: {error}')
    lines = [f'{result["cpu"]}, {result["nproc"]} CPUs; {args.images} JPEG '
             f'files, mean {result["mean_file_kib"]:.0f} KiB',
             'ms per image, in this process:']
    lines += [f'  {name:28s} {ms:7.2f}'
              for name, ms in result['transform_ms_per_image'].items()]
    lines.append('data loader, images/s (per worker):')
    for workers, rate in result['loader_images_per_s'].items():
        per = result['images_per_s_per_worker'].get(workers)
        lines.append(f'  {workers} workers {rate:8.1f}' +
                     (f' ({per:.1f})' if per else ' (main process)'))
    print('\n'.join(lines))
    if args.json:
        atomic_write(json.dumps(result, indent=1), args.json)


if __name__ == '__main__':
    main()
