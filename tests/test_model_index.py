"""The model index: one honest entry per config."""
from pathlib import Path

import pytest
from modelindex.load_model_index import load

from mmregnet.apis import is_classifier, load_model_index
from mmregnet.design import complexity, stage_specs
from tests.helpers import load_config

ROOT = Path(__file__).resolve().parents[1]
# OpenMMLab's published RegNetX checkpoints (seed: mmpretrain's RegNet card)
PUBLISHED = {
    'regnetx-400mf_8xb128_in1k': (72.56, 90.78, '89bfc226'),
    'regnetx-800mf_8xb128_in1k': (74.76, 92.32, '222b0f11'),
    'regnetx-1.6gf_8xb128_in1k': (76.84, 93.31, 'd1b89758'),
    'regnetx-3.2gf_8xb64_in1k': (78.09, 94.08, '1fdd82ae'),
    'regnetx-4.0gf_8xb64_in1k': (78.60, 94.17, 'efed675c'),
    'regnetx-6.4gf_8xb64_in1k': (79.38, 94.65, '5c6089da'),
    'regnetx-8.0gf_8xb64_in1k': (79.12, 94.51, '9a9fcc76'),
    'regnetx-12gf_8xb64_in1k': (79.67, 95.03, '5df8c2f8'),
}
MODELS = load_model_index()
# ImageNet classifiers: the configs and the converted third-party weights
CLASSIFIERS = sorted(name for name, meta in MODELS.items()
                     if is_classifier(meta))


def test_model_index_loads_with_modelindex_and_covers_every_config():
    index = load(str(ROOT / 'model-index.yml'))
    index.build_models_with_collections()
    # every metafile's entries (not the index's dict): no name twice
    names = [m.name for m in index.models]
    assert len(names) == len(set(names))
    assert all(name == name.lower() for name in names)
    classifiers = [m.name for m in index.models if is_classifier(m)]
    # 24 configs, 90 third-party weights and 15 SEER ones
    # (configs/converted/metafile.yml)
    assert len(classifiers) == 24 + 90 + 15
    configs = {p.stem for p in (ROOT / 'configs').glob('regnet*_in1k.py')}
    configs |= {p.stem for p in (ROOT / 'configs/converted').glob('*.py')}
    assert set(classifiers) == configs


@pytest.mark.parametrize('name', CLASSIFIERS)
def test_entry_numbers_equal_the_analytic_complexity(name):
    meta = MODELS[name]
    assert Path(meta.config).is_file()
    assert Path(meta.config).stem == name
    config = load_config(meta.config)
    backbone = config.model.backbone
    # converted weights: the publisher's widths and input size
    rounding = backbone.get('width_rounding', 'pycls')
    (crop, ) = [step['crop_size'] for step in config.test_pipeline
                if step['type'] == 'CenterCrop']
    cx = complexity(stage_specs(backbone.arch, rounding), input_size=crop)
    assert meta.metadata.parameters == cx.params
    assert meta.metadata.flops == cx.flops
    if 'Converted From' not in meta.data:  # else tests/test_converted_index.py
        assert meta.in_collection == 'RegNet'


@pytest.mark.parametrize('name', CLASSIFIERS)
def test_published_results_or_an_honest_absence(name):
    meta = MODELS[name]
    (result, ) = meta.results  # an 'Image Classification' result
    assert result.dataset == 'ImageNet-1k'
    if name in PUBLISHED:
        top1, top5, digest = PUBLISHED[name]
        assert result.metrics == {'Top 1 Accuracy': top1,
                                  'Top 5 Accuracy': top5}
        assert meta.weights.startswith(
            'https://download.openmmlab.com/mmclassification/v0/regnet/'
            f'{name}_')
        assert meta.weights.endswith(f'-{digest}.pth')
    else:
        assert meta.weights is None
        # converted weights: the publisher's results, checked in
        # tests/test_converted_index.py; none of ours
        if 'Converted From' not in meta.data:
            assert result.metrics == {}


def test_seed_table_row_of_regnetx_3_2gf_is_corrected():
    # the seed lists 3.21 M params / 1.53 GFLOPs for regnetx-3.2gf
    meta = MODELS['regnetx-3.2gf_8xb64_in1k']
    assert round(meta.metadata.parameters / 1e6, 2) == 15.30
    assert round(meta.metadata.flops / 1e9, 1) == 3.2
