"""A test-only hook that kills its own process at a given iteration, to
simulate a training job killed between two checkpoints."""
import os
import signal

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class KillAtIterHook(Hook):

    def __init__(self, kill_at_iter: int):
        self.kill_at_iter = kill_at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.kill_at_iter:
            # the whole process group: dataloader workers die with it
            os.killpg(os.getpgid(0), signal.SIGKILL)
