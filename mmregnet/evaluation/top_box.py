"""Top-box accuracy: a per-image statement about a detector's most confident
prediction, sturdier than any single image and easier to read than mAP."""
from typing import List, Sequence

import torch
from mmengine.evaluator import BaseMetric

from ..registry import METRICS


def box_iou(box: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """IoU of one ``(4,)`` box with ``(N, 4)`` boxes (``x1, y1, x2, y2``)."""
    top_left = torch.maximum(box[:2], boxes[:, :2])
    bottom_right = torch.minimum(box[2:], boxes[:, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=1)
    area = (box[2:] - box[:2]).clamp(min=0).prod()
    areas = (boxes[:, 2:] - boxes[:, :2]).clamp(min=0).prod(dim=1)
    return inter / (area + areas - inter)


def _tensor(boxes) -> torch.Tensor:
    return torch.as_tensor(getattr(boxes, 'tensor', boxes)).float().cpu()


@METRICS.register_module()
class TopBoxAccuracy(BaseMetric):
    """Fraction of images whose highest-scoring detection has the class of a
    ground-truth object it overlaps at IoU >= ``iou_thr``.

    Ground truth comes from the test samples, in the original image's
    coordinates like mmdet's predictions (``rescale=True``): put
    ``LoadAnnotations`` after ``Resize`` in the test pipeline, as mmdet's own
    test pipelines do. An image without any detection is a miss; images
    without ground-truth objects are left out. Reports ``top_box/accuracy``
    (0-1).
    """
    default_prefix = 'top_box'

    def __init__(self, iou_thr: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        if not 0 < iou_thr <= 1:
            raise ValueError(f'iou_thr must be in (0, 1], got {iou_thr}')
        self.iou_thr = iou_thr

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = sample.get('gt_instances', {})
            if 'labels' not in gt:
                raise ValueError(
                    'TopBoxAccuracy needs the ground truth in the test '
                    "samples: add LoadAnnotations to the test pipeline "
                    '(after Resize)')
            if len(gt['labels']) == 0:
                continue
            pred = sample['pred_instances']
            if len(pred['scores']) == 0:
                self.results.append(False)
                continue
            top = int(torch.as_tensor(pred['scores']).argmax())
            same_class = torch.as_tensor(gt['labels']).cpu() == int(
                pred['labels'][top])
            ious = box_iou(_tensor(pred['bboxes'])[top],
                           _tensor(gt['bboxes'])[same_class])
            self.results.append(bool((ious >= self.iou_thr).any()))

    def compute_metrics(self, results: List[bool]) -> dict:
        return dict(accuracy=sum(results) / max(len(results), 1))
