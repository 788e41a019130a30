"""What mmengine 0.10.7 needs to run torch.distributed jobs on CPU."""
import torch
import torch.distributed as dist


def init_cpu_distributed(cfg) -> bool:
    """Start a gloo process group for ``launcher='pytorch'`` without CUDA.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` and wraps the
    model with ``device_ids=[LOCAL_RANK]``; both fail on CPU. Starting the
    group here (torchrun's environment variables) makes the Runner skip its
    own ``init_dist``, and ``device_ids=None`` lets DDP wrap a CPU model.
    Returns whether it did so.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True
