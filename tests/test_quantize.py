"""int8 post-training quantization (mmregnet.models.quantize_int8): what the
quantized model returns, how close it stays to float32, the artifact it
writes and reads back, and the errors for bad input."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from mmregnet.apis import inference_model
from mmregnet.models import Int8Classifier, Int8Model, quantize_int8

from .helpers import randomise_norms

ROOT = Path(__file__).resolve().parents[1]
ARCH = dict(w0=16, wa=16.0, wm=2.0, depth=6, group_w=8, se_ratio=0.25)
SIZE = 64


def images(batch: int, seed: int) -> torch.Tensor:
    """Normalised, natural-looking images: smooth random shapes (8x8 noise
    upsampled), not white noise. Shape (batch, 3, SIZE, SIZE)."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.randn(batch, 3, 8, 8, generator=gen)
    return F.interpolate(coarse, size=SIZE, mode='bilinear')


def classifier() -> torch.nn.Module:
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='mmregnet.RegNet', arch=ARCH,
                          stem_channels=16, out_indices=(0, 1, 2, 3)),
            neck=dict(type='GlobalAveragePooling', dim=2),
            head=dict(type='LinearClsHead', num_classes=10,
                      in_channels=128)))
    return randomise_norms(model).eval()


@pytest.fixture(scope='module')
def float_model():
    return classifier()


@pytest.fixture(scope='module')
def int8_classifier(float_model):
    return quantize_int8(float_model, [images(16, seed) for seed in (1, 2)])


@pytest.fixture(scope='module')
def int8_backbone(float_model):
    return quantize_int8(float_model.backbone, [images(8, seed=1)])


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return F.cosine_similarity(a.flatten(1), b.flatten(1)).min().item()


def test_a_classifier_gives_logits_close_to_float32(float_model,
                                                    int8_classifier):
    x = images(5, seed=3)
    with torch.no_grad():
        expected = float_model(x, mode='tensor')
    logits = int8_classifier(x)
    assert logits.shape == (5, 10) and logits.dtype == torch.float32
    assert cosine(logits, expected) >= 0.98
    assert not torch.equal(logits, expected)  # it is quantized


def test_a_backbone_gives_every_feature_map(float_model, int8_backbone):
    x = images(3, seed=3)
    with torch.no_grad():
        expected = float_model.backbone(x)
    features = int8_backbone(x)
    assert isinstance(features, tuple) and len(features) == 4
    for ours, theirs in zip(features, expected):
        assert ours.shape == theirs.shape
        assert cosine(ours, theirs) >= 0.98


def test_the_float_model_is_left_as_it_was(float_model, int8_classifier):
    assert not any(getattr(m, 'deploy', False)
                   for m in float_model.modules())


def test_the_artifact_reads_back_with_its_metadata(int8_classifier,
                                                   tmp_path):
    path = int8_classifier.save(
        str(tmp_path / 'digits'), dataset_meta=dict(classes=list('abcde')))
    assert path == str(tmp_path / 'digits.onnx')
    loaded = Int8Model.load(path)
    x = images(2, seed=4)
    assert torch.equal(loaded(x), int8_classifier(x))
    assert loaded.metadata == dict(
        tuple_output=False, dataset_meta=dict(classes=list('abcde')))
    assert [p.name for p in tmp_path.iterdir()] == ['digits.onnx']


def test_the_classifier_of_an_artifact_predicts_like_a_head(
        int8_classifier, tmp_path):
    path = int8_classifier.save(str(tmp_path / 'model.onnx'))
    model = Int8Classifier(path, data_preprocessor=dict(mean=[0.] * 3,
                                                        std=[1.] * 3))
    x = images(4, seed=5)
    samples = model(x, mode='predict')
    logits = int8_classifier(x)
    assert [s.pred_label.item() for s in samples] == \
        logits.argmax(1).tolist()
    assert torch.allclose(samples[0].pred_score, logits[0].softmax(0))
    with pytest.raises(ValueError, match="mode='loss'.*'tensor'"):
        model(x, mode='loss')


def test_the_inference_api_needs_the_artifacts_test_pipeline(
        int8_classifier, tmp_path):
    path = int8_classifier.save(str(tmp_path / 'bare'))
    with pytest.raises(ValueError, match='bare.onnx carries no test pipel'):
        inference_model(path, str(tmp_path / 'image.png'))


@pytest.mark.parametrize('artifact, launcher, message', [
    ('classifier', 'pytorch', 'evaluated in one process'),
    ('backbone', 'none', 'holds a backbone'),
])
def test_test_py_refuses_what_it_cannot_evaluate(
        int8_classifier, int8_backbone, tmp_path, artifact, launcher,
        message):
    model = int8_classifier if artifact == 'classifier' else int8_backbone
    path = model.save(str(tmp_path / artifact))
    result = subprocess.run(
        [sys.executable, 'tools/test.py',
         'configs/quickstart/regnet-tiny_1xb64_digits.py', path,
         '--launcher', launcher], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith('error: ')
    assert message in result.stderr


def test_a_model_in_training_mode_is_refused(float_model):
    with pytest.raises(ValueError, match='eval-mode model.*model.eval'):
        quantize_int8(classifier().train(), [images(2, seed=1)])


def test_empty_calibration_is_refused(float_model):
    with pytest.raises(ValueError, match='calib_inputs is empty'):
        quantize_int8(float_model, iter([]))


@pytest.mark.parametrize('batch', [[1.0], torch.zeros(3, SIZE, SIZE),
                                   torch.zeros(1, 3, 8, 8, dtype=torch.int)])
def test_a_calibration_batch_that_is_not_an_image_batch_is_named(
        float_model, batch):
    with pytest.raises(ValueError, match='calibration batch 0 is .*'
                       r'\(N, C, H, W\) float tensor'):
        quantize_int8(float_model, [batch, images(2, seed=1)])


def test_a_file_that_is_no_artifact_is_named(tmp_path):
    import onnx  # here: it slows the collection of every test process
    text = tmp_path / 'notes.onnx'
    text.write_text('not a model')
    with pytest.raises(ValueError, match='notes.onnx is not a readable'):
        Int8Model.load(str(text))
    foreign = tmp_path / 'foreign.onnx'
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node('Identity', ['input'], ['out'])], 'g',
        [onnx.helper.make_tensor_value_info('input', 1, [1])],
        [onnx.helper.make_tensor_value_info('out', 1, [1])])
    onnx.save(onnx.helper.make_model(graph), str(foreign))
    with pytest.raises(ValueError, match='foreign.onnx is an ONNX model '
                       'without mmregnet'):
        Int8Model.load(str(foreign))
    with pytest.raises(ValueError, match='no such int8 artifact'):
        Int8Model.load(str(tmp_path / 'missing.onnx'))


def test_an_artifact_of_a_backbone_is_no_classifier(int8_backbone,
                                                    tmp_path):
    path = int8_backbone.save(str(tmp_path / 'backbone'))
    with pytest.raises(ValueError, match='holds a backbone'):
        Int8Classifier(path)


@pytest.mark.slow  # a benchmark run
def test_the_benchmark_times_an_int8_mode_on_cpu_in_float32():
    from tools.analysis_tools.benchmark import (eval_case, eval_modes,
                                                parse_args)
    args = parse_args(['--input-size', '32'])
    assert 'int8' in eval_modes('mmregnet', args)
    assert 'int8' not in eval_modes('timm', args)
    for options in (['--no-int8'], ['--dtype', 'bfloat16']):
        assert 'int8' not in eval_modes('mmregnet', parse_args(options))
    case = eval_case('mmregnet', 'regnetx_200mf', 'int8', 2, args)
    case.run()
    assert (case.mode, case.workload) == ('int8', 'eval bs2')
