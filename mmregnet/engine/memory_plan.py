"""Per-device training memory of a RegNet classifier under DDP and FSDP,
computed from the design (no model is built): the planner behind
``tools/analysis_tools/plan_memory.py``.

With P parameters, k optimizer state tensors per parameter (SGD with
momentum 1, Adam 2), N devices and b images per device:

- DDP: weights 4P, gradients 4P, DDP's gradient buckets 4P, optimizer 4kP
  bytes (bf16 autocast adds a 2P cache of bf16 weights);
- FSDP (full sharding): weights, gradients and optimizer state / N, plus
  the gathered weights of the root unit (stem and head, held through the
  step) and of the two largest blocks (the running one and the prefetched
  one), and the unsharded gradient of the largest block;
- activations (both): what autograd saves for the backward pass, b times
  the per-image count of :func:`activation_elements`, 4 bytes (2 under
  bf16 autocast / mixed precision).

Sizes are bytes; ``GB`` is 10**9 bytes, as GPU memory is sold.
"""
import re
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

from ..design import StageSpec, stage_specs
from .config import train_crop_size

GB = 10**9
#: share of device memory the plan may fill: the rest is for the CUDA
#: context, cuDNN workspaces and the caching allocator's fragmentation
USABLE_FRACTION = 0.9
#: optimizer state tensors per parameter
OPTIMIZER_STATES = {
    'SGD': None,  # 1 with momentum, else 0
    'Adam': 2,
    'AdamW': 2,
    'RMSprop': 1,
    'Lamb': 2,
    'LARS': 1,
}


@dataclass(frozen=True)
class TrainingSetup:
    """What the memory of a training step depends on."""
    stage_specs: Tuple[StageSpec, ...]
    batch_size: int  # images per device
    input_size: int = 224
    stem_channels: int = 32
    in_channels: int = 3
    num_classes: int = 1000
    optimizer_states: int = 1
    with_cp: bool = False
    amp: bool = False


@dataclass(frozen=True)
class _Block:
    """Shapes of one block (per image): input, bottleneck, output widths;
    input and output spatial sizes."""
    c_in: int
    c_b: int
    c_out: int
    groups: int
    se: int
    hw_in: int
    hw_out: int

    @property
    def params(self) -> int:
        count = self.c_in * self.c_b + 9 * self.c_b * self.c_b // \
            self.groups + self.c_b * self.c_out + 4 * self.c_b + 2 * self.c_out
        if self.se:
            count += 2 * self.c_b * self.se + self.se + self.c_b
        if self.downsample:
            count += self.c_in * self.c_out + 2 * self.c_out
        return count

    @property
    def downsample(self) -> bool:
        return self.hw_in != self.hw_out or self.c_in != self.c_out

    @property
    def saved(self) -> int:
        """Elements autograd keeps: each conv's output (the norm's input)
        and the norm + ReLU output (the next layer's input) for conv1-3, the
        SE product, the shortcut conv's output."""
        conv1, conv2, conv3 = (self.c_b * self.hw_in, self.c_b * self.hw_out,
                               self.c_out * self.hw_out)
        return 2 * (conv1 + conv2 + conv3) + conv2 * bool(self.se) + \
            conv3 * self.downsample

    @property
    def largest(self) -> int:
        return max(self.c_b * self.hw_in, self.c_b * self.hw_out,
                   self.c_out * self.hw_out)

    @property
    def output(self) -> int:
        return self.c_out * self.hw_out


def _blocks(setup: TrainingSetup) -> Iterator[_Block]:
    size = (setup.input_size + 1) // 2  # the stem's stride-2 conv
    c_in = setup.stem_channels
    for spec in setup.stage_specs:
        for index in range(spec.depth):
            out = (size + 1) // 2 if index == 0 else size
            yield _Block(c_in, spec.bottleneck_width, spec.width,
                         spec.groups, spec.se_width(c_in), size * size,
                         out * out)
            c_in, size = spec.width, out


def _stem_output(setup: TrainingSetup) -> int:
    return setup.stem_channels * ((setup.input_size + 1) // 2)**2


def parameter_count(setup: TrainingSetup) -> int:
    """P: stem, blocks and the linear head (equals
    ``design.complexity(...).params`` and the built model's)."""
    return sum(block_parameters(setup)) + root_parameters(setup)


def block_parameters(setup: TrainingSetup) -> List[int]:
    """Parameters of each block (an FSDP unit each)."""
    return [block.params for block in _blocks(setup)]


def root_parameters(setup: TrainingSetup) -> int:
    """Parameters of FSDP's root unit: the stem and the linear head."""
    stem = (9 * setup.in_channels + 2) * setup.stem_channels
    return stem + (setup.stage_specs[-1].width + 1) * setup.num_classes


def activation_elements(setup: TrainingSetup) -> int:
    """Peak elements per image held for the backward pass: the input, the
    stem's conv and norm outputs and every block's :attr:`_Block.saved`
    (the backward pass frees the large early-stage tensors only at its
    end). With ``with_cp`` a block keeps only its output, and the block
    being recomputed holds its full set plus two gradients of its largest
    tensor."""
    blocks = list(_blocks(setup))
    fixed = setup.in_channels * setup.input_size**2 + 2 * _stem_output(setup)
    if not setup.with_cp:
        return fixed + sum(b.saved for b in blocks)
    return fixed + sum(b.output for b in blocks) + max(
        b.saved + 2 * b.largest for b in blocks)


@dataclass(frozen=True)
class MemoryPlan:
    """Bytes per device for one training step."""
    strategy: str  # 'DDP' or 'FSDP'
    devices: int
    weights: int
    gradients: int
    optimizer: int
    gathered: int  # FSDP's unsharded units; DDP's gradient buckets
    activations: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + \
            self.gathered + self.activations

    def fits(self, device_memory: float) -> bool:
        return self.total <= USABLE_FRACTION * device_memory


def plan(setup: TrainingSetup, strategy: str, devices: int) -> MemoryPlan:
    """The memory of ``setup`` per device for ``strategy`` ('DDP' or
    'FSDP') over ``devices`` devices."""
    if strategy not in ('DDP', 'FSDP'):
        raise ValueError(f'strategy must be DDP or FSDP, got {strategy!r}')
    params = parameter_count(setup)
    activations = (2 if setup.amp else 4) * setup.batch_size * \
        activation_elements(setup)
    shards = devices if strategy == 'FSDP' else 1
    weights = -(-4 * params // shards)
    optimizer = setup.optimizer_states * weights
    if strategy == 'DDP':
        gathered = 4 * params + 2 * params * setup.amp
    else:
        two_largest = sorted(block_parameters(setup))[-2:]
        gathered = (2 if setup.amp else 4) * (
            sum(two_largest) + root_parameters(setup)) + 4 * two_largest[-1]
    return MemoryPlan(strategy, devices, weights, weights, optimizer,
                      gathered, activations)


def smallest_fit(setup: TrainingSetup, strategy: str,
                 device_memory: float,
                 most: int = 4096) -> Optional[int]:
    """The fewest devices (up to ``most``) on which ``setup`` fits, or
    None."""
    if strategy == 'DDP':
        fits = plan(setup, 'DDP', 1).fits(device_memory)
        return 1 if fits else None
    return next((n for n in range(1, most + 1)
                 if plan(setup, strategy, n).fits(device_memory)), None)


def parse_memory(text: str) -> float:
    """``'80G'``, ``'80GB'``, ``'512M'``, ``'1.5T'`` or a number of bytes as
    bytes (decimal units)."""
    match = re.fullmatch(r'\s*([0-9]*\.?[0-9]+)\s*([kKmMgGtT]?)[bB]?\s*',
                         str(text))
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f'memory size must look like 80G, 512M or 1.5T, '
                         f'got {text!r}')
    scale = {'': 1, 'k': 1e3, 'm': 1e6, 'g': 1e9, 't': 1e12}
    return float(match.group(1)) * scale[match.group(2).lower()]


def setup_from_config(cfg,
                      batch_size: Optional[int] = None,
                      amp: bool = False,
                      with_cp: Optional[bool] = None) -> TrainingSetup:
    """The :class:`TrainingSetup` of an mmregnet classifier config:
    arch, stem, classes, the train pipeline's crop size, the per-device
    batch size and the optimizer (overridden by the arguments).

    Raises:
        ValueError: naming what the planner does not know (a backbone
            other than mmregnet.RegNet, an optimizer without a known
            state size).
    """
    model = cfg.model
    backbone = model.get('backbone') or {}
    if backbone.get('type') != 'mmregnet.RegNet':
        raise ValueError('the memory planner knows mmregnet.RegNet '
                         f'backbones; this config has {backbone.get("type")}')
    optimizer = cfg.optim_wrapper.optimizer
    kind = optimizer.get('type')
    if kind not in OPTIMIZER_STATES:
        raise ValueError(f'the memory planner knows the optimizers '
                         f'{", ".join(OPTIMIZER_STATES)}; got {kind}')
    states = OPTIMIZER_STATES[kind]
    if states is None:
        states = int(bool(optimizer.get('momentum', 0)))
    head = model.get('head') or {}
    return TrainingSetup(
        stage_specs=stage_specs(
            backbone.arch,
            rounding=backbone.get('width_rounding', 'pycls')),
        batch_size=batch_size or cfg.train_dataloader.batch_size,
        input_size=train_crop_size(cfg) or 224,
        stem_channels=backbone.get('stem_channels', 32),
        in_channels=backbone.get('in_channels', 3),
        num_classes=head.get('num_classes', 1000),
        optimizer_states=states,
        with_cp=backbone.get('with_cp', False) if with_cp is None else
        with_cp,
        amp=amp)


def format_plans(plans: Sequence[MemoryPlan], device_memory: float) -> str:
    """The plans as a table in GB per device."""
    head = ('strategy', 'devices', 'weights', 'grads', 'optim',
            'gathered', 'acts', 'total', 'fits')
    rows = [head]
    for p in plans:
        sizes = (p.weights, p.gradients, p.optimizer, p.gathered,
                 p.activations, p.total)
        rows.append((p.strategy, str(p.devices)) +
                    tuple(f'{size / GB:.1f}' for size in sizes) +
                    ('yes' if p.fits(device_memory) else 'no', ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return '\n'.join('  '.join(cell.rjust(width)
                               for cell, width in zip(row, widths))
                     for row in rows)
