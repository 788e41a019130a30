"""int8 artifacts and their runtime: the ONNX files that
:func:`mmregnet.deploy.quantize_int8` makes (QDQ graphs, int8 weights per
output channel, uint8 activations), run with onnxruntime's CPU kernels.

An artifact is one protobuf file: the graph, its weights and, in the
model's metadata (key ``mmregnet``, JSON), what a user of the file needs
besides: whether the output is a tuple of feature maps, and for a
classifier its class names, data preprocessor and test pipeline. Loading
one parses protobuf and JSON, never pickle.
:class:`Int8Classifier` evaluates one in an mmengine Runner
(``tools/test.py CONFIG ARTIFACT``) and in the inference API.
"""
import copy
import json
import os
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import BaseModel

from ..fileio import atomic_write
from ..registry import MODELS

#: the file extension of an int8 artifact
ARTIFACT_EXT = '.onnx'
#: the key of the artifact's metadata among the ONNX model's properties
METADATA_KEY = 'mmregnet'
#: the name of the graph's input, (N, C, H, W) float32
INPUT_NAME = 'input'


def import_onnxruntime():
    """onnxruntime, or an ImportError saying how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise ImportError('int8 models run on onnxruntime, which is not '
                          'installed: pip install "mmregnet[int8]"') from None
    return onnxruntime


class Int8Model(nn.Module):
    """A quantized model: ``forward(x)`` returns what the float model's
    ``model(x, mode='tensor')`` (a classifier) or ``model(x)`` (a backbone)
    returns. Shapes: (N, C, H, W) -> (N, classes), or a tuple of
    (N, C_i, H_i, W_i). Runs on CPU with ``torch.get_num_threads()``
    threads; outputs go to ``x``'s device.

    Args:
        onnx_model: the serialised ONNX model (bytes).
        metadata: JSON-serialisable dict: ``tuple_output`` (bool) and
            whatever the file should carry (see :meth:`save`).
    """

    def __init__(self, onnx_model: bytes, metadata: dict):
        super().__init__()
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        self.onnx_model = onnx_model
        self.metadata = metadata
        self.session = ort.InferenceSession(
            onnx_model, options, providers=['CPUExecutionProvider'])

    def forward(self, x: torch.Tensor
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            raise ValueError('an int8 model takes a (N, C, H, W) tensor, not '
                             f'{getattr(x, "shape", type(x).__name__)}')
        inputs = x.detach().to('cpu', torch.float32).contiguous().numpy()
        outputs = tuple(
            torch.from_numpy(out).to(x.device)
            for out in self.session.run(None, {INPUT_NAME: inputs}))
        return outputs if self.holds_backbone else outputs[0]

    @property
    def holds_backbone(self) -> bool:
        """Whether this is a backbone's artifact (feature maps out), not a
        classifier's."""
        return self.metadata['tuple_output']

    def save(self, path: str, **metadata) -> str:
        """Write the artifact to ``path`` (``.onnx`` appended unless it ends
        so) atomically, with ``metadata`` (JSON-serialisable: e.g.
        ``dataset_meta``, ``data_preprocessor``, ``test_pipeline``) added
        to this model's; returns the path written."""
        import onnx
        if not path.endswith(ARTIFACT_EXT):
            path += ARTIFACT_EXT
        model = onnx.load_model_from_string(self.onnx_model)
        properties = {p.key: p.value for p in model.metadata_props}
        properties[METADATA_KEY] = json.dumps(
            dict(self.metadata, **metadata))
        onnx.helper.set_model_props(model, properties)
        atomic_write(model.SerializeToString(), path)
        return path

    @classmethod
    def load(cls, path: str) -> 'Int8Model':
        """The artifact at ``path``; ``ValueError`` naming the file if it
        is missing, not ONNX, or not written by :meth:`save`."""
        ort = import_onnxruntime()
        if not os.path.isfile(path):
            raise ValueError(f'no such int8 artifact: {path}')
        with open(path, 'rb') as f:
            onnx_model = f.read()
        try:
            session = ort.InferenceSession(
                onnx_model, providers=['CPUExecutionProvider'])
        except Exception as error:  # onnxruntime's own exception types
            raise ValueError(f'{path} is not a readable ONNX model: '
                             f'{str(error).splitlines()[0]}') from None
        text = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        if text is None:
            raise ValueError(f'{path} is an ONNX model without mmregnet\'s '
                             'metadata: write it with '
                             'tools/deployment/quantize.py')
        return cls(onnx_model, json.loads(text))

    @classmethod
    def load_classifier(cls, path: str) -> 'Int8Model':
        """The classifier's artifact at ``path``: :meth:`load`'s errors,
        and a ``ValueError`` naming the file if it holds a backbone."""
        runtime = cls.load(path)
        if runtime.holds_backbone:
            raise ValueError(f'{path} holds a backbone (its outputs are '
                             'feature maps), not a classifier')
        return runtime


def predictions(logits: torch.Tensor, data_samples: Optional[Sequence]):
    """mmpretrain DataSamples with ``pred_score`` (softmax) and
    ``pred_label``, as a classification head's ``predict`` gives them.
    Shapes: logits (N, classes)."""
    from mmpretrain.structures import DataSample
    scores = F.softmax(logits, dim=1)
    labels = scores.argmax(dim=1, keepdim=True)
    samples = data_samples or [DataSample() for _ in range(len(scores))]
    return [
        sample.set_pred_score(score).set_pred_label(label)
        for sample, score, label in zip(samples, scores, labels)
    ]


@MODELS.register_module()
class Int8Classifier(BaseModel):
    """A classifier running an int8 artifact, for an mmengine Runner
    (``model = dict(type='mmregnet.Int8Classifier', artifact=PATH)``) and
    mmpretrain's inferencer. Inference only: ``mode`` is ``'tensor'``
    (logits, (N, classes)) or ``'predict'`` (DataSamples).

    Args:
        artifact: path of the ``.onnx`` file.
        data_preprocessor: config of the data preprocessor; default: the
            one stored in the artifact (mmpretrain's
            ``ClsDataPreprocessor`` unless it names another type).
    """

    def __init__(self,
                 artifact: str,
                 data_preprocessor: Optional[dict] = None):
        runtime = Int8Model.load_classifier(artifact)
        meta = runtime.metadata
        preprocessor = copy.deepcopy(
            dict(data_preprocessor or meta.get('data_preprocessor') or {}))
        preprocessor.setdefault('type', 'mmpretrain.ClsDataPreprocessor')
        super().__init__(data_preprocessor=preprocessor)
        self.runtime = runtime
        self._dataset_meta = meta.get('dataset_meta') or {}
        # what mmpretrain's inferencer reads: the test pipeline
        self._config = Config(
            dict(test_dataloader=dict(
                dataset=dict(pipeline=meta.get('test_pipeline') or []))))

    def forward(self, inputs: torch.Tensor, data_samples=None,
                mode: str = 'tensor'):
        if mode not in ('tensor', 'predict'):
            raise ValueError(f'an int8 classifier only infers: mode={mode!r}'
                             ", use 'tensor' or 'predict'")
        logits = self.runtime(inputs)
        return logits if mode == 'tensor' else predictions(
            logits, data_samples)
