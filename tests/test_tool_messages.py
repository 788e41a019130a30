"""What the tools say where they used to raise a traceback or say nothing:
one line naming the fix (get_flops on a detector or with a model name and
--cfg-options, image_demo offline, pytorch2onnx on a detector, an empty
seed sweep), a caveat for a one-run sweep analysis, a --help that states
each default once. The tools run in this process, as ``python TOOL``."""
import contextlib
import io
import json
import re
import runpy
import sys
from pathlib import Path

import pytest

from mmregnet.design import complexity, stage_specs

ROOT = Path(__file__).resolve().parents[1]
DETECTOR = ('configs/mmdet/quickstart/'
            'faster-rcnn_regnetx-tiny_fpn_1xb8_shapes.py')
TINY = 'configs/quickstart/regnet-tiny_1xb64_digits.py'


def run_tool(tool: str, *args, monkeypatch) -> tuple:
    """(exit code or message, stdout, stderr) of ``python tool args``."""
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setattr(sys, 'argv', [tool, *map(str, args)])
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(str(ROOT / tool), run_name='__main__')
        except SystemExit as exit:
            code = exit.code
    return code, out.getvalue(), err.getvalue()


def one_line(code) -> str:
    assert isinstance(code, str) and code.startswith('error: '), code
    assert '\n' not in code
    return code


def test_get_flops_counts_a_detectors_backbone(monkeypatch):
    code, out, _ = run_tool('tools/analysis_tools/get_flops.py', DETECTOR,
                            '--shape', 64, 64, monkeypatch=monkeypatch)
    assert code in (0, None)
    assert "an mmdet detector: the counts are its backbone's" in out
    assert 'GFLOPs' in out


def test_get_flops_applies_cfg_options_to_a_model_name(monkeypatch):
    code, out, _ = run_tool(
        'tools/analysis_tools/get_flops.py', 'regnetx-200mf_8xb128_in1k',
        '--shape', 32, 32, '--cfg-options', 'model.head.num_classes=10',
        monkeypatch=monkeypatch)
    assert code in (0, None)
    params = complexity(stage_specs('regnetx_200mf'), num_classes=10).params
    assert f'analytic {params:,}' in out


def test_get_flops_names_full_config_keys(monkeypatch):
    code, _, _ = run_tool(
        'tools/analysis_tools/get_flops.py', 'regnetx-200mf_8xb128_in1k',
        '--cfg-options', 'backbone.deploy=True', monkeypatch=monkeypatch)
    assert 'e.g. model.backbone.deploy=True' in one_line(code)


def test_pytorch2onnx_on_a_detector_names_backbone_only(monkeypatch,
                                                        tmp_path):
    code, _, _ = run_tool(
        'tools/deployment/pytorch2onnx.py', DETECTOR, '--output-file',
        tmp_path / 'x.onnx', monkeypatch=monkeypatch)
    assert 'is an mmdet detector' in one_line(code)
    assert '--backbone-only' in code
    assert not (tmp_path / 'x.onnx').exists()


def test_image_demo_offline_names_the_checkpoint_option(
        monkeypatch, tmp_path):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'cache'))
    monkeypatch.setenv('MMREGNET_WEIGHTS_MIRROR', str(tmp_path))  # empty
    code, _, _ = run_tool('demo/image_demo.py', tmp_path / 'any.jpg',
                          'regnetx-400mf_8xb128_in1k', monkeypatch=monkeypatch)
    assert 'cannot download' in one_line(code)
    assert code.endswith('(with this demo: --checkpoint FILE)')


def test_seed_sweep_table_of_nothing_is_an_error(monkeypatch, tmp_path):
    code, out, err = run_tool(
        'tools/analysis_tools/seed_sweep.py', TINY, '--work-dir', tmp_path,
        '--table-only', monkeypatch=monkeypatch)
    assert code == 1 and not out
    assert err.startswith('error: ') and 'holds no finished run' in err


def test_analyze_sweep_of_one_run_says_the_ranges_mean_little(
        monkeypatch, tmp_path):
    design = dict(w0=16, wa=16.0, wm=2.0, depth=6, group_w=8)
    work_dir = tmp_path / 'work_dirs' / 'run-000'
    (work_dir / '20260101_000000' / 'vis_data').mkdir(parents=True)
    (work_dir / '20260101_000000' / 'vis_data' / 'scalars.json').write_text(
        json.dumps({'accuracy/top1': 90.0, 'step': 1}) + '\n')
    (tmp_path / 'manifest.json').write_text(json.dumps(dict(runs=[
        dict(name='run-000', work_dir='work_dirs/run-000', design=design,
             params=1e5, flops=1e6)
    ])))
    code, out, _ = run_tool('tools/design/analyze_sweep.py', tmp_path,
                            monkeypatch=monkeypatch)
    assert code in (0, None)
    assert 'caveat: only 1 finished run(s)' in out
    assert out.index('caveat') < out.index('good ranges')


def test_benchmark_help_states_each_default_once(monkeypatch):
    code, out, _ = run_tool('tools/analysis_tools/benchmark.py', '--help',
                            monkeypatch=monkeypatch)
    assert code == 0
    options = re.split(r'\n(?=  -)', out.split('options:')[1])
    twice = [o.split()[0] for o in options if o.count('default') > 1]
    assert not twice, twice
    assert '--peak-gflops' in out


@pytest.mark.parametrize('tool', [
    'tools/analysis_tools/seed_sweep.py',
    'tools/dataset_converters/make_shapes_coco.py',
    'tools/deployment/pytorch2onnx.py', 'tools/deployment/quantize.py',
    'tools/deployment/reparameterize_model.py'
])
def test_help_descriptions_are_whole(tool, monkeypatch):
    code, out, _ = run_tool(tool, '--help', monkeypatch=monkeypatch)
    description = ' '.join(out.split('\n\n')[1].split())
    assert code == 0 and description.endswith(('.', '?', ':')), description
