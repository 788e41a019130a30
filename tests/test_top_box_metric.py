"""TopBoxAccuracy: the fraction of images whose most confident detection
names and overlaps a ground-truth object."""
import pytest
import torch

from mmregnet.evaluation import TopBoxAccuracy
from mmregnet.evaluation.top_box import box_iou
from tools.dataset_converters.make_shapes_coco import CLASSES, make_shapes_coco

from .helpers import run_python


def _sample(pred_boxes, scores, labels, gt_boxes, gt_labels):
    return dict(
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


def test_images_without_objects_are_left_out_and_missing_ground_truth_named():
    empty = _sample([[0, 0, 10, 10]], [0.9], [0], [], [])
    right = _sample([[0, 0, 10, 10]], [0.9], [0], [[0, 0, 10, 10]], [0])
    assert _accuracy([empty, right]) == 1.0
    with pytest.raises(ValueError, match='add LoadAnnotations'):
        _accuracy([dict(right, gt_instances={})])


def test_perfect_detector_through_mmdets_pipeline_at_another_scale(tmp_path):
    """Real samples: the shapes set through mmdet's CocoDataset, resized 2x,
    ground truth loaded after the resize; predictions = the annotations in
    the original image's coordinates (what a detector with rescale=True
    returns). A perfect detector scores 1."""
    from mmdet.registry import DATASETS
    from mmdet.structures import DetDataSample
    from mmengine.evaluator import Evaluator
    from mmengine.registry import DefaultScope
    from mmengine.structures import InstanceData

    make_shapes_coco(tmp_path, num_train=1, num_val=6)
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(dict(
            type='CocoDataset', data_root=str(tmp_path),
            ann_file='annotations/instances_val.json',
            data_prefix=dict(img='val/'),
            metainfo=dict(classes=CLASSES), test_mode=True,
            pipeline=[dict(type='LoadImageFromFile'),
                      dict(type='Resize', scale=(320, 320), keep_ratio=True),
                      dict(type='LoadAnnotations', with_bbox=True),
                      dict(type='PackDetInputs', meta_keys=(
                          'img_id', 'img_path', 'ori_shape', 'img_shape',
                          'scale_factor'))]))
    evaluator = Evaluator(TopBoxAccuracy())
    evaluator.dataset_meta = dataset.metainfo
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        assert sample.scale_factor == (2.0, 2.0)
        original = dataset.get_data_info(index)['instances']
        prediction = DetDataSample(metainfo=sample.metainfo)
        prediction.gt_instances = sample.gt_instances
        prediction.pred_instances = InstanceData(
            bboxes=torch.tensor([i['bbox'] for i in original]),
            labels=torch.tensor([i['bbox_label'] for i in original]),
            scores=torch.linspace(1, 0.5, len(original)))
        evaluator.process([prediction])
    assert evaluator.evaluate(len(dataset)) == {'top_box/accuracy': 1.0}


def test_iou_threshold_is_checked():
    with pytest.raises(ValueError, match='iou_thr must be in'):
        TopBoxAccuracy(iou_thr=1.5)


def test_built_from_an_mmdet_config_by_its_scoped_name():
    out = run_python("""
        from mmdet.registry import METRICS
        metric = METRICS.build(dict(type='mmregnet.TopBoxAccuracy',
                                    iou_thr=0.7))
        print(type(metric).__module__, metric.iou_thr)
    """)
    assert out.split() == ['mmregnet.evaluation.top_box', '0.7']
