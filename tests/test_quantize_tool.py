"""tools/deployment/quantize.py end to end on the quick start: the trained
digits classifier quantized to an int8 artifact, evaluated by
tools/test.py against float32, and classifying through the inference
API; the tool's errors."""
import re
import sys

import pytest

from tests.end_to_end import DIGITS_CONFIG, digits_options, run_tool

pytestmark = pytest.mark.slow
CONFIG = str(DIGITS_CONFIG)
# the bound (#15): int8 loses at most this much top-1
MAX_TOP1_LOSS = 0.5


def top1(output: str) -> float:
    metrics = eval(output.strip().splitlines()[-1])  # the printed dict
    return metrics['accuracy/top1']


def test_the_quantized_quick_start_keeps_its_accuracy(
        digits, digits_quickstart, tmp_path):
    checkpoint = str(digits_quickstart.checkpoint)
    data = ['--cfg-options', *digits_options(digits)]
    # tools/test.py on the float32 checkpoint
    fp32 = digits_quickstart.test_metrics['accuracy/top1']

    out = run_tool([sys.executable, 'tools/deployment/quantize.py', CONFIG,
                    checkpoint, '--out', str(tmp_path / 'digits-int8'),
                    '--num-calib', '256', *data])
    artifact = tmp_path / 'digits-int8.onnx'
    assert f'wrote {artifact}: int8, calibrated on 256' in out
    int8 = top1(run_tool([sys.executable, 'tools/test.py', CONFIG,
                          str(artifact), '--work-dir',
                          str(tmp_path / 'int8'), *data]))
    assert int8 >= fp32 - MAX_TOP1_LOSS, (int8, fp32)

    import mmregnet
    images = sorted((digits / 'val').glob('*/*.png'))[::18]  # 20 images
    paths = [str(p) for p in images]
    int8_results = mmregnet.inference_model(str(artifact), paths)
    fp32_results = mmregnet.inference_model(
        mmregnet.get_model(CONFIG, pretrained=checkpoint), paths)
    # the artifact carries the class names and the preprocessing
    assert sum(r['pred_class'] == p.parent.name
               for r, p in zip(int8_results, images)) >= 18
    assert sum(a['pred_label'] == b['pred_label']
               for a, b in zip(int8_results, fp32_results)) >= 19


def test_bad_arguments_get_one_line_errors(digits, tmp_path):
    missing = str(tmp_path / 'missing.pth')
    for args, message in [
        ([CONFIG, missing, '--out', str(tmp_path / 'x')],
         f'error: no such file: {missing}'),
        ([CONFIG, CONFIG, '--out', str(tmp_path / 'x'), '--num-calib', '0'],
         '--num-calib 0: give at least 1'),
    ]:
        with pytest.raises(AssertionError) as failure:
            run_tool([sys.executable, 'tools/deployment/quantize.py', *args])
        assert message in str(failure.value)
        assert 'Traceback' not in str(failure.value)
    assert not list(tmp_path.glob('x*'))
    not_artifact = tmp_path / 'notes.onnx'
    not_artifact.write_text('not a model')
    with pytest.raises(AssertionError) as failure:
        run_tool([sys.executable, 'tools/test.py', CONFIG,
                  str(not_artifact), '--cfg-options', *digits_options(digits)])
    assert re.search(r'error: .*notes.onnx is not a readable ONNX model',
                     str(failure.value))
    assert 'Traceback' not in str(failure.value)
