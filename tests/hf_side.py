"""The transformers side of the transformers tests, run by
:func:`tests.transformers_env.run_transformers` in an interpreter that has
transformers (and no mmpretrain import): ``python hf_side.py JOBS OUT``.

JOBS is a JSON list of jobs; OUT gets a torch file of one result per job:

- ``make``: a random RegNet of ``config`` (RegNetConfig fields), with a head
  or without (``RegNetModel``), norms' affine parameters and running
  statistics randomised, ``save_pretrained`` to ``dir`` (in shards of
  ``max_shard_size``, if given) with a
  ConvNextImageProcessor; result: its outputs on :func:`fixed_input`.
- ``load``: ``from_pretrained(dir)`` (the class its config.json names);
  result: its outputs, its ``id2label`` and, with ``pipeline``, the labels
  that ``pipeline('image-classification')`` returns for a random image.
- ``count``: parameters of ``RegNetModel(config)`` built on the meta device.
"""
import json
import sys

import numpy as np
import torch
import torch.nn as nn


def fixed_input() -> torch.Tensor:
    """(2, 3, 32, 32): stage outputs of 16, 8, 4 and 2 pixels."""
    generator = torch.Generator().manual_seed(0)
    return torch.randn(2, 3, 32, 32, generator=generator)


def randomise(model: nn.Module, seed: int) -> nn.Module:
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            shape = module.weight.shape
            module.weight.data = torch.rand(shape, generator=generator) + 0.5
            module.bias.data = torch.randn(shape, generator=generator) * 0.1
            module.running_mean = torch.randn(shape, generator=generator) * .1
            module.running_var = torch.rand(shape, generator=generator) + 0.5
        elif isinstance(module, nn.Linear):
            module.bias.data = torch.randn(
                module.bias.shape, generator=generator)
    return model


def outputs(model) -> dict:
    with torch.no_grad():
        out = model(pixel_values=fixed_input(), output_hidden_states=True)
    result = dict(stages=list(out.hidden_states[1:]))
    if hasattr(out, 'logits'):
        result['logits'] = out.logits
    else:
        result['pooled'] = out.pooler_output.flatten(1)
    return result


def make(job: dict) -> dict:
    from transformers import (ConvNextImageProcessor, RegNetConfig,
                              RegNetForImageClassification, RegNetModel)
    config = RegNetConfig(**job['config'])
    torch.manual_seed(job.get('seed', 0))
    build = RegNetForImageClassification if job['head'] else RegNetModel
    model = randomise(build(config), job.get('seed', 0)).eval()
    model.save_pretrained(
        job['dir'], max_shard_size=job.get('max_shard_size', '5GB'))
    # as facebook/regnet-* have it: ImageNet's mean and std
    ConvNextImageProcessor(
        size=dict(shortest_edge=224),
        crop_pct=0.875,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225]).save_pretrained(job['dir'])
    return outputs(model)


def load(job: dict) -> dict:
    from PIL import Image
    from transformers import (AutoConfig, RegNetForImageClassification,
                              RegNetModel, pipeline)
    config = AutoConfig.from_pretrained(job['dir'])
    build = RegNetForImageClassification if config.architectures == [
        'RegNetForImageClassification'
    ] else RegNetModel
    model = build.from_pretrained(job['dir']).eval()
    result = outputs(model)
    result['class'] = type(model).__name__
    result['id2label'] = dict(model.config.id2label)
    if job.get('pipeline'):
        classify = pipeline('image-classification', model=job['dir'])
        pixels = np.random.default_rng(0).integers(
            0, 256, (48, 40, 3), dtype=np.uint8)
        answers = classify(
            Image.fromarray(pixels), top_k=len(model.config.id2label))
        result['labels'] = [answer['label'] for answer in answers]
    return result


def count(job: dict) -> dict:
    from transformers import RegNetConfig, RegNetModel
    with torch.device('meta'):
        model = RegNetModel(RegNetConfig(**job['config']))
    return dict(params=sum(p.numel() for p in model.parameters()))


if __name__ == '__main__':
    with open(sys.argv[1]) as file:
        jobs = json.load(file)
    actions = dict(make=make, load=load, count=count)
    torch.save([actions[job['action']](job) for job in jobs], sys.argv[2])
