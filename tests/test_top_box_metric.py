"""TopBoxAccuracy: the fraction of images whose most confident detection
names and overlaps a ground-truth object."""
import pytest
import torch

from mmregnet.evaluation import TopBoxAccuracy
from mmregnet.evaluation.top_box import box_iou


def _sample(pred_boxes, scores, labels, gt_boxes, gt_labels,
            scale_factor=(1.0, 1.0)):
    return dict(
        scale_factor=scale_factor,
        pred_instances=dict(bboxes=torch.tensor(pred_boxes).reshape(-1, 4),
                            scores=torch.tensor(scores),
                            labels=torch.tensor(labels)),
        gt_instances=dict(bboxes=torch.tensor(gt_boxes).reshape(-1, 4),
                          labels=torch.tensor(gt_labels)))


def _accuracy(samples, **kwargs):
    metric = TopBoxAccuracy(**kwargs)
    metric.dataset_meta = dict(classes=('square', 'disc'))
    metric.process({}, samples)
    return metric.evaluate(len(samples))['top_box/accuracy']


def test_box_iou():
    boxes = torch.tensor([[0., 0., 10., 10.], [5., 0., 15., 10.],
                          [20., 20., 30., 30.]])
    iou = box_iou(torch.tensor([0., 0., 10., 10.]), boxes)
    torch.testing.assert_close(iou, torch.tensor([1.0, 50 / 150, 0.0]))


def test_only_the_most_confident_box_counts():
    gt = [[0, 0, 10, 10], [20, 20, 40, 40]]
    right = _sample([[50, 50, 60, 60], [0, 0, 10, 10]], [0.3, 0.9], [0, 0],
                    gt, [0, 1])
    wrong_class = _sample([[0, 0, 10, 10]], [0.9], [1], gt, [0, 1])
    misplaced = _sample([[0, 0, 10, 10], [0, 0, 4, 10]], [0.1, 0.8], [0, 0],
                        gt, [0, 1])  # top box: IoU 0.4
    nothing = _sample([], [], [], gt, [0, 1])
    assert _accuracy([right, wrong_class, misplaced, nothing]) == 0.25
    assert _accuracy([misplaced], iou_thr=0.4) == 1.0


def test_ground_truth_is_brought_back_to_the_original_image():
    # ground truth in a 2x resized image, prediction in the original's
    sample = _sample([[10, 10, 20, 20]], [0.9], [1], [[20, 20, 40, 40]], [1],
                     scale_factor=(2.0, 2.0))
    assert _accuracy([sample]) == 1.0


def test_iou_threshold_is_checked():
    with pytest.raises(ValueError, match='iou_thr must be in'):
        TopBoxAccuracy(iou_thr=1.5)


def test_built_from_an_mmdet_config_by_its_scoped_name():
    from mmdet.registry import METRICS
    metric = METRICS.build(dict(type='mmregnet.TopBoxAccuracy', iou_thr=0.7))
    assert isinstance(metric, TopBoxAccuracy) and metric.iou_thr == 0.7
