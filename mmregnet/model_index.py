"""mmregnet's model index: ``model-index.yml`` and the metafiles it imports,
read with OpenMMLab's ``modelindex``. No host framework is imported here:
the converters and the weight downloader use the index too;
:mod:`mmregnet.apis` builds models from it and registers it in mmpretrain.
"""
import difflib
import fnmatch
import functools
import re
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional

from mmengine.config import Config
from modelindex.load_model_index import load
from modelindex.models.Model import Model

PACKAGE_DIR = Path(__file__).resolve().parent
#: the prefix of mmregnet's names in mmpretrain's ModelHub; accepted here too
HUB_PREFIX = 'mmregnet.'
#: the host that builds detectors; mmpretrain builds every other model
DETECTOR_SCOPE = 'mmdet'
#: the tasks of a detector's results in the metafiles
DETECTION_TASKS = frozenset({'Object Detection', 'Instance Segmentation'})
#: an original that is a Hugging Face Hub repo: ``hf-hub:<owner>/<name>``
HF_HUB_SCHEME = 'hf-hub:'
_TIMM_FILE = re.compile(r'https://huggingface\.co/timm/(?P<tag>[^/]+)/'
                        r'resolve/main/[^/]+')


def _index_root() -> Path:
    """The source checkout (editable install), else ``mmregnet/.mim``."""
    checkout = PACKAGE_DIR.parent
    if (checkout / 'model-index.yml').exists():
        return checkout
    return PACKAGE_DIR / '.mim'


@functools.lru_cache()
def load_model_index() -> Dict[str, Model]:
    """All models of mmregnet's index by lower-case name, with absolute
    config paths."""
    root = _index_root()
    index = load(str(root / 'model-index.yml'))
    index.build_models_with_collections()
    models = {}
    for model in index.models:
        model.config = str(root / model.config)
        models[model.name.lower()] = model
    return models


def is_detector(target) -> bool:
    """Whether an index entry, a config or a built model is an mmdet
    detector (else an ImageNet classifier of mmpretrain): an entry with
    detection results, a config in mmdet's scope, a model of mmdet's
    classes."""
    if isinstance(target, Model):
        return any(result.task in DETECTION_TASKS for result in target.results)
    if isinstance(target, (Config, dict)):
        return target.get('default_scope') == DETECTOR_SCOPE
    return type(target).__module__.startswith(DETECTOR_SCOPE + '.')


def is_classifier(meta: Model) -> bool:
    """Whether an index entry is an ImageNet classifier."""
    return not is_detector(meta)


def list_models(pattern: str = '*') -> List[str]:
    """Names of mmregnet's models matching a shell-style ``pattern``."""
    return sorted(fnmatch.filter(load_model_index(), pattern.lower()))


def lookup(name: str) -> Model:
    """The entry of ``name`` (case-insensitive, with or without
    :data:`HUB_PREFIX`); an unknown name is a ``ValueError`` listing close
    matches."""
    models = load_model_index()
    key = name.lower()
    if key.startswith(HUB_PREFIX):
        key = key[len(HUB_PREFIX):]
    if key in models:
        return models[key]
    close = difflib.get_close_matches(key, models, n=5, cutoff=0.5)
    hint = f' Close matches: {", ".join(close)}.' if close else ''
    raise ValueError(f'Unknown model {name!r}.{hint} '
                     'mmregnet.list_models() lists all names.')


class Original(NamedTuple):
    """The publisher's file that a converted entry's weights come from
    (``Converted From`` in the metafile): a file URL, or a Hugging Face Hub
    repo as ``hf-hub:<owner>/<name>`` (:data:`HF_HUB_SCHEME`)."""
    url: str  # the file itself, or the Hub repo
    code: str  # the publisher's repository
    sha256: Optional[str]  # the whole file's, where published
    backbone_only: bool = False  # a headless trunk (``Backbone Only``)

    @property
    def hub_repo(self) -> Optional[str]:
        """``<owner>/<name>`` of a Hub repo original, else None."""
        return self.url[len(HF_HUB_SCHEME):] if self.url.startswith(
            HF_HUB_SCHEME) else None

    @property
    def file_key(self) -> str:
        """What names this file among the publisher's: the file name, or
        timm's ``<model>.<tag>`` (every timm file is model.safetensors, in
        a folder of that name in the Hugging Face cache)."""
        timm = _TIMM_FILE.fullmatch(self.url)
        return timm['tag'] if timm else self.url.rsplit('/', 1)[-1]


def original_of(meta: Model) -> Optional[Original]:
    """The original of a converted entry, None for any other."""
    original = meta.data.get('Converted From')
    if not original:
        return None
    return Original(original['Weights'], original['Code'],
                    original.get('SHA256'),
                    bool(original.get('Backbone Only', False)))
