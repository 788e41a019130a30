"""Test-only hooks that record what a (possibly distributed) training run
did, for comparisons across runs: the loss of the global batch at every
iteration, and the trained model's logits for a fixed batch."""
import json

import torch
import torch.distributed as dist
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

FIXED_IMAGES = dict(seed=0, shape=(4, 3, 32, 32))


def fixed_images() -> torch.Tensor:
    generator = torch.Generator().manual_seed(FIXED_IMAGES['seed'])
    return torch.randn(*FIXED_IMAGES['shape'], generator=generator)


@HOOKS.register_module()
class RecordGlobalLossHook(Hook):
    """After every iteration, the loss averaged over all processes (each
    process's mean loss over its share of the batch), written as a JSON
    list to ``path`` by rank 0 at the end of the run."""

    def __init__(self, path: str):
        self.path = path
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        loss = torch.tensor(float(outputs['loss']), dtype=torch.float64)
        if dist.is_initialized():
            dist.all_reduce(loss)
            loss /= dist.get_world_size()
        self.losses.append(loss.item())

    def after_run(self, runner):
        if is_main_process():
            with open(self.path, 'w') as f:
                json.dump(self.losses, f)


@HOOKS.register_module()
class SaveLogitsHook(Hook):
    """At the end of training, the model's logits (eval mode,
    ``mode='tensor'``) for :func:`fixed_images`, saved to ``path`` by rank
    0; every rank runs the forward (FSDP gathers the weights)."""

    def __init__(self, path: str):
        self.path = path

    def after_train(self, runner):
        runner.model.eval()
        with torch.no_grad():
            logits = runner.model(fixed_images(), mode='tensor')
        if is_main_process():
            torch.save(logits, self.path)
