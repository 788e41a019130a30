"""Detectors with mmregnet's backbone, end to end on CPU: a generated COCO
dataset, tools/train.py, tools/test.py with mmdet's CocoMetric, mmdet's
DetInferencer and mmregnet's inference API."""
import ast
import json
import re
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from tools.dataset_converters.make_shapes_coco import CLASSES, make_shapes_coco

from .test_training import _data_options as _loader_options
from .test_training import _run

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / 'configs/mmdet/quickstart'
FASTER_RCNN = QUICKSTART / 'faster-rcnn_regnetx-tiny_fpn_1xb8_shapes.py'
RETINANET = QUICKSTART / 'retinanet_regnety-tiny_fpn_1xb8_shapes.py'
MASK_RCNN = QUICKSTART / 'mask-rcnn_regnetx-tiny_fpn_1xb8_shapes.py'
# bbox (mAP@[.5:.95], mAP@.5) floors on the 40 validation images, trained
# from scratch on 160. Measured (docs/detection.md): Faster R-CNN
# 0.573-0.586 / 0.827 after 6 epochs (120 iterations; unseeded runs);
# RetinaNet 0.170 / 0.335 after 12 epochs (240 iterations, seed 0).
MAP_FLOOR = {FASTER_RCNN: (0.45, 0.70), RETINANET: (0.10, 0.20)}

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp('shapes')
    counts = make_shapes_coco(root, num_train=160, num_val=40)
    assert [images for images, _ in counts.values()] == [160, 40]
    return root


def _data_options(root):
    ann_file = f'{root}/annotations/instances_val.json'
    return _loader_options(f'{root}/') + [
        f'val_evaluator.ann_file={ann_file}',
        f'test_evaluator.ann_file={ann_file}']


def _train_and_test(config, shapes, work_dir):
    # about 5 minutes alone on 2 cores; generous for a busy machine
    log = _run([sys.executable, 'tools/train.py', str(config), '--work-dir',
                str(work_dir), '--cfg-options', *_data_options(shapes)],
               timeout=2400)
    checkpoint = Path((work_dir / 'last_checkpoint').read_text().strip())
    out = _run([sys.executable, 'tools/test.py', str(config), str(checkpoint),
                '--work-dir', str(work_dir / 'test'), '--cfg-options',
                *_data_options(shapes)])
    metrics = ast.literal_eval(out.strip().splitlines()[-1])  # printed dict
    return log, checkpoint, metrics


@pytest.fixture(scope='module')
def faster_rcnn(shapes, tmp_path_factory):
    return _train_and_test(FASTER_RCNN, shapes,
                           tmp_path_factory.mktemp('faster_rcnn'))


def _losses(log):
    return [float(x) for x in re.findall(
        r'Epoch\(train\) .*?\bloss: ([0-9.]+)', log)]


@pytest.mark.parametrize('config', [FASTER_RCNN, RETINANET],
                         ids=lambda p: p.stem)
def test_detector_learns_the_shapes(config, shapes, request, tmp_path):
    # Faster R-CNN's run is shared with the inference test below
    log, checkpoint, metrics = request.getfixturevalue('faster_rcnn') \
        if config == FASTER_RCNN else _train_and_test(config, shapes, tmp_path)
    epochs = Config.fromfile(str(config)).train_cfg.max_epochs
    losses = _losses(log)
    assert len(losses) == 2 * epochs  # 20 iterations, logged every 10
    assert max(losses[-2:]) < 0.6 * losses[0], losses
    print(f'{config.stem}: loss {losses[0]:.3f} -> {losses[-1]:.3f}, '
          f'bbox mAP {metrics["coco/bbox_mAP"]:.3f}')
    floor, floor_50 = MAP_FLOOR[config]
    assert metrics['coco/bbox_mAP'] >= floor
    assert metrics['coco/bbox_mAP_50'] >= floor_50
    assert checkpoint.name == f'epoch_{epochs}.pth'
    assert torch.load(checkpoint, weights_only=True)['meta']['epoch'] == epochs


def _ground_truth(root, file_name):
    """[(class name, [x1, y1, x2, y2])] of one image of the shapes set."""
    coco = json.loads((root / 'annotations/instances_val.json').read_text())
    (image_id, ) = [image['id'] for image in coco['images']
                    if image['file_name'] == file_name]
    return [(CLASSES[a['category_id'] - 1],
             torch.tensor(a['bbox']) + torch.tensor([0, 0, *a['bbox'][:2]]))
            for a in coco['annotations'] if a['image_id'] == image_id]


def _area(box):
    return (box[2:] - box[:2]).clamp(min=0).prod()


def _iou(a, b):
    """Intersection over union of two [x1, y1, x2, y2] boxes."""
    inter = _area(torch.cat([torch.maximum(a[:2], b[:2]),
                             torch.minimum(a[2:], b[2:])]))
    return float(inter / (_area(a) + _area(b) - inter))


def test_det_inferencer_and_inference_api_find_the_objects(
        faster_rcnn, shapes, tmp_path):
    from mmdet.apis import DetInferencer

    import mmregnet
    _, checkpoint, _ = faster_rcnn
    image = str(shapes / 'val/000000.png')
    inferencer = DetInferencer(model=str(FASTER_RCNN), weights=str(checkpoint),
                               device='cpu', show_progress=False)
    result = inferencer(image, out_dir=str(tmp_path))
    (prediction, ) = result['predictions']
    # the most confident box is one of the drawn objects, rightly named
    assert prediction['scores'][0] > 0.5
    label, box = CLASSES[prediction['labels'][0]], torch.tensor(
        prediction['bboxes'][0])
    truths = _ground_truth(shapes, '000000.png')
    assert max([_iou(box, truth) for name, truth in truths
                if name == label], default=0) > 0.5, (label, box, truths)
    assert (tmp_path / 'vis/000000.png').is_file()

    model = mmregnet.get_model(str(FASTER_RCNN), pretrained=str(checkpoint))
    assert model.dataset_meta['classes'] == CLASSES
    sample = mmregnet.inference_model(model, image)
    torch.testing.assert_close(sample.pred_instances.bboxes[0],
                               torch.tensor(prediction['bboxes'][0]),
                               rtol=0, atol=1e-3)


def test_mask_rcnn_trains_a_step_and_predicts_masks(shapes):
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner

    import mmregnet
    model = mmregnet.get_model(str(MASK_RCNN))
    cfg = model.cfg
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': f'{shapes}/'})
    loader = Runner.build_dataloader(cfg.train_dataloader)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    model.train()
    losses = model.train_step(next(iter(loader)), optim_wrapper)
    assert {'loss_mask', 'loss_cls', 'loss_rpn_cls'} <= set(losses)
    assert all(torch.isfinite(v).all() for v in losses.values())

    model.eval()
    sample = mmregnet.inference_model(model, str(shapes / 'val/000001.png'))
    masks = sample.pred_instances.masks
    assert masks.dtype == torch.bool and masks.shape[1:] == (160, 160)
    assert len(masks) == len(sample.pred_instances.bboxes) > 0
