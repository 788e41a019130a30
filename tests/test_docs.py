"""The README and docs/*.md stay true: their Python blocks run (small
inputs; nothing downloaded: ``pretrained=True`` becomes random weights),
every tool they name answers ``--help`` with the flags they use, every
``mmregnet.<Type>`` they write imports, and the counts, parameters, FLOPs
and dataset sizes they state are what the code computes."""
import ast
import contextlib
import io
import re
import runpy
import sys
from pathlib import Path

import pytest
import torch

import mmregnet
from mmregnet import design
from mmregnet.model_index import list_models
from mmregnet.registry import MODELS

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
TINY = 'configs/quickstart/regnet-tiny_1xb64_digits.py'
#: lines of the blocks that cannot run here, and why
NOT_RUN = {
    "DetInferencer(model='configs/mmdet/...py', weights='...pth')":
    'placeholders for a config and a trained checkpoint',
}
#: blocks (by a line of theirs) that cannot run here, and why
BLOCKS_NOT_RUN = {
    "model = mmregnet.get_model('regnetx-400mf_3rdparty-tv-v1_in1k', "
    "pretrained='work_dirs/x400.pth')":
    'the file that the conversion above writes from a download',
    "get_model('hf-hub:facebook/regnet-y-040', pretrained=True)":
    'a Hugging Face Hub download (tests/test_hf_hub.py runs the same call '
    'against a local endpoint)',
    'from transformers import pipeline, RegNetForImageClassification':
    'transformers is kept out of the project environment '
    '(tests/test_hf_export.py runs these calls in a scratch one)',
}


def text(doc: Path) -> str:
    return doc.read_text(encoding='utf-8')


def blocks(doc: Path, language: str):
    """(line number, code) of each fenced ``language`` block of ``doc``."""
    source = text(doc)
    for match in re.finditer(rf'^```{language}\n(.*?)^```', source,
                             re.S | re.M):
        yield source[:match.start()].count('\n') + 1, match.group(1)


def runnable(code: str) -> str:
    """``code`` with downloads replaced by random weights and the lines of
    :data:`NOT_RUN` left out."""
    code = re.sub(r"pretrained=(True|'mmregnet://[^']*')", 'pretrained=False',
                  code)
    return '\n'.join(
        line for line in code.splitlines()
        if not any(line.strip().startswith(skip) for skip in NOT_RUN))


def small_inputs() -> dict:
    """What the blocks take as given: the imports of earlier blocks,
    images, calibration batches, a config and an arch."""
    from mmregnet.models import switch_to_deploy
    images = torch.randn(2, 3, 64, 64)
    return dict(
        torch=torch,
        mmregnet=mmregnet,
        design=design,
        switch_to_deploy=switch_to_deploy,
        images=images,
        batches=[images],
        config=str(ROOT / TINY),
        checkpoint=None,
        arch='regnetx_400mf')


def python_blocks():
    """One pytest param per block; detectors at 1333x800 and int8
    quantization are slow."""
    for doc in DOCS:
        for line, code in blocks(doc, 'python'):
            if any(skip in code for skip in BLOCKS_NOT_RUN):
                continue
            slow = 'quantize_int8(' in code or doc.name == 'detection.md'
            yield pytest.param(
                doc, line, code, id=f'{doc.name}:{line}',
                marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize('doc, line, code', python_blocks())
def test_python_block_runs(doc, line, code, tmp_path, monkeypatch):
    import cv2
    import numpy as np
    cv2.imwrite(str(tmp_path / 'demo.jpg'),
                np.random.default_rng(0).integers(0, 255, (64, 64, 3),
                                                  dtype=np.uint8))
    monkeypatch.chdir(tmp_path)
    namespace = small_inputs()
    try:
        exec(compile(runnable(code), f'{doc.name}:{line}', 'exec'),
             namespace)
        if isinstance(namespace.get('backbone'), dict):  # a config snippet
            MODELS.build(namespace['backbone'])
    except Exception as error:
        raise AssertionError(
            f'{doc.name} line {line}: {type(error).__name__}: {error}')


def test_not_run_lines_are_still_in_the_docs():
    everything = ''.join(text(doc) for doc in DOCS)
    for line in [*NOT_RUN, *BLOCKS_NOT_RUN]:
        assert line in everything, line


# tools ------------------------------------------------------------------
def tool_commands():
    """{tool path: flags the docs use with it} from the docs' shell blocks
    and inline code."""
    used = {}
    for doc in DOCS:
        source = re.sub(r'\\\n\s*', ' ', text(doc))  # join continued lines
        for match in re.finditer(
                r'python3? +((?:tools|demo)/[\w/]+\.py)([^\n`]*)', source):
            flags = set(re.findall(r'(?<![\w-])(--[a-z][\w-]*)',
                                   match.group(2).split('#')[0]))
            used.setdefault(match.group(1), set()).update(flags)
    return used


TOOLS = tool_commands()


def help_text(tool: str) -> str:
    out = io.StringIO()
    argv = sys.argv
    sys.argv = [tool, '--help']
    try:
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as e:
            runpy.run_path(str(ROOT / tool), run_name='__main__')
    finally:
        sys.argv = argv
    assert e.value.code == 0, tool
    return out.getvalue()


@pytest.mark.parametrize('tool', sorted(TOOLS))
def test_every_tool_in_the_docs_has_the_flags_they_use(tool, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    assert (ROOT / tool).is_file(), f'{tool} is named in the docs'
    shown = help_text(tool)
    description = ' '.join(shown.split('\n\n')[1].split())
    docstring = ast.get_docstring(ast.parse(text(ROOT / tool))) or ''
    summary = ' '.join(docstring.split('\n\n')[0].split())
    assert not (summary.startswith(description) and summary != description
                ), f'{tool} --help cuts its description: {description!r}'
    missing = {flag for flag in TOOLS[tool] if flag not in shown}
    assert not missing, f'{tool} --help lacks {sorted(missing)}'


def test_the_docs_name_the_main_tools():
    assert {'tools/train.py', 'tools/test.py',
            'tools/analysis_tools/get_flops.py',
            'tools/deployment/pytorch2onnx.py'} <= set(TOOLS)


def test_every_type_the_docs_write_imports_from_mmregnet():
    names = {
        name
        for doc in DOCS
        for name in re.findall(r'\bmmregnet\.([A-Z]\w+)', text(doc))
    }
    assert {'RegNet', 'PortableCheckpointHook', 'TopBoxAccuracy'} <= names
    for name in names:
        assert getattr(mmregnet, name) is MODELS.get(name) or \
            getattr(mmregnet, name).__module__.startswith('mmregnet.'), name


# numbers ----------------------------------------------------------------
def stated(pattern: str, doc: str = 'README.md') -> str:
    """The first group of ``pattern`` in ``doc`` (which must hold it)."""
    path = ROOT / doc if doc != 'README.md' else DOCS[0]
    match = re.search(pattern, text(path), re.S)
    assert match, f'{doc} no longer says {pattern!r}'
    return match.group(1)


def number(value: str) -> float:
    return float(value.replace(',', ''))


def test_named_archs_count():
    assert number(stated(r'one of the (\d+) named archs')) == \
        len(design.NAMED_ARCHS)


@pytest.mark.parametrize('arch, name', [('regnetx_400mf', 'X-400MF'),
                                        ('regnety_400mf', 'Y-400MF'),
                                        ('regnetx_32gf', 'X-32GF')])
def test_stated_parameters(arch, name):
    params = number(stated(rf'{name} ([\d,]+)'))
    assert params == design.complexity(design.stage_specs(arch),
                                       num_classes=1000).params


@pytest.mark.parametrize('arch, name', [('regnetx_400mf', 'X-400MF'),
                                        ('regnetx_3.2gf', 'X-3.2GF'),
                                        ('regnety_1.6gf', 'Y-1.6GF')])
def test_stated_flops_are_within_half_a_percent(arch, name):
    published = number(stated(rf'{name} (\d\.\d+) G'))
    flops = design.complexity(design.stage_specs(arch),
                              num_classes=1000).flops / 1e9
    assert abs(flops / published - 1) < 0.005


def test_converted_entries_count():
    assert number(stated(r'The (\d+) entries \(`mmregnet.list_models',
                         'docs/weight_conversion.md')) == \
        len(list_models('*_3rdparty-*'))


def test_digits_sizes(tmp_path):
    from tools.dataset_converters.prepare_digits import prepare
    train, val = map(number,
                     re.search(r'stratified ([\d,]+) / ([\d,]+) split',
                               text(DOCS[0])).groups())
    counts = prepare(str(tmp_path))
    assert (counts['train'], counts['val']) == (train, val)
    assert number(stated(r'digits \(([\d,]+) 8×8 images')) == train + val


def test_shapes_sizes():
    from tools.dataset_converters import make_shapes_coco
    source = text(ROOT / 'docs/detection.md')
    default = re.search(r'the tool writes (\d+) / (\d+) images', source)
    sized = re.search(r'--num-train (\d+) --num-val (\d+)', source)
    defaults = make_shapes_coco.make_shapes_coco.__defaults__[:2]
    assert tuple(map(int, default.groups())) == defaults
    train, _ = map(int, sized.groups())
    batch = 8  # the quick starts' 1xb8
    steps = re.search(r'6 epochs = (\d+) steps', source)
    assert int(steps.group(1)) == 6 * train // batch
