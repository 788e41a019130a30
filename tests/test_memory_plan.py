"""The memory planner: counts that agree with the design and the built
model, the plan of RegNetY-10B computed without building it, the
plan_memory.py table and its one-line errors, and the plan against the
measured peak memory of real CPU training steps."""
import resource
from pathlib import Path

import pytest

from mmregnet.design import complexity, stage_specs
from mmregnet.engine.memory_plan import (GB, TrainingSetup, parameter_count,
                                         parse_memory, plan, setup_from_config,
                                         smallest_fit)
from tests.helpers import load_config
from tools.analysis_tools import benchmark_memory, plan_memory

ROOT = Path(__file__).resolve().parents[1]
TEN_B = ROOT / 'configs/fsdp/regnety-10b_fsdp-8xb32_in1k-ft.py'
# the largest |planned / measured - 1| over the cases of
# tools/analysis_tools/benchmark_memory.py (docs/large_models.md)
PLAN_TOLERANCE = 0.15


@pytest.mark.parametrize('arch', ['regnetx_400mf', 'regnety_1.6gf',
                                  'regnety_128gf', 'regnety_10b'])
def test_parameter_count_is_the_designs(arch):
    setup = TrainingSetup(stage_specs(arch), batch_size=1)
    assert parameter_count(setup) == complexity(arch).params


def test_parameter_count_is_the_built_models():
    from mmregnet.models import RegNet
    backbone = RegNet('regnety_400mf')
    setup = TrainingSetup(stage_specs('regnety_400mf'), batch_size=1)
    head = (backbone.stage_widths[-1] + 1) * 1000
    assert parameter_count(setup) == head + sum(
        p.numel() for p in backbone.parameters())


def test_regnety_10b_plan_without_building_the_model():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    setup = setup_from_config(load_config(TEN_B))
    assert (setup.batch_size, setup.input_size, setup.with_cp,
            setup.optimizer_states) == (32, 224, True, 1)
    ddp, fsdp = plan(setup, 'DDP', 8), plan(setup, 'FSDP', 8)
    # fp32 weights, gradients and momentum: 3 x 4 x 9.35e9 bytes
    assert ddp.weights + ddp.gradients + ddp.optimizer == \
        12 * 9_352_215_872
    assert fsdp.weights == -(-4 * 9_352_215_872 // 8)
    assert not ddp.fits(80 * GB) and fsdp.fits(80 * GB)
    assert smallest_fit(setup, 'DDP', 80 * GB) is None
    assert smallest_fit(setup, 'FSDP', 80 * GB) == 4
    # 37 GB of weights were never allocated
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown * 1024 < 0.1 * GB


def test_checkpointing_and_bf16_shrink_the_activations():
    arch = stage_specs('regnety_1.6gf')
    full = plan(TrainingSetup(arch, 32), 'DDP', 1).activations
    cp = plan(TrainingSetup(arch, 32, with_cp=True), 'DDP', 1).activations
    bf16 = plan(TrainingSetup(arch, 32, amp=True), 'DDP', 1).activations
    assert cp < full / 2 and bf16 * 2 == full


def test_plan_memory_prints_the_table_and_the_fewest_devices(capsys):
    plan_memory.main([str(TEN_B), '--gpus', '8', '--gpu-mem', '80G'])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('regnety_10b: 9,352.2 M parameters, 32 '
                               'images of 224px per device')
    assert lines[1].split() == ['strategy', 'devices', 'weights', 'grads',
                                'optim', 'gathered', 'acts', 'total', 'fits']
    assert lines[2].split()[:3] == ['DDP', '8', '37.4']
    assert lines[3].split()[:3] == ['FSDP', '8', '4.7']
    assert lines[-2:] == [
        'DDP: does not fit (every device holds everything)',
        'FSDP: fits on 4 or more devices'
    ]


@pytest.mark.parametrize('args,message', [
    (['missing.py'], 'error: missing.py: not a loadable config'),
    ([str(TEN_B), '--gpu-mem', 'lots'],
     "memory size must look like 80G, 512M or 1.5T, got 'lots'"),
])
def test_plan_memory_bad_input_is_one_line(args, message):
    with pytest.raises(SystemExit) as exit:
        plan_memory.main(args)
    assert len(str(exit.value).splitlines()) == 1  # printed, status 1
    assert message in str(exit.value)


def test_memory_sizes_parse_in_decimal_units():
    assert parse_memory('80G') == parse_memory('80GB') == 80e9
    assert parse_memory('1.5T') == 1.5e12 and parse_memory(512) == 512
    with pytest.raises(ValueError, match="got '-1G'"):
        parse_memory('-1G')


@pytest.mark.slow
@pytest.mark.parametrize('case', ['regnety_400mf:8:224',
                                  'regnety_400mf:8:224:cp'])
def test_plan_agrees_with_measured_cpu_training_steps(case):
    measured = benchmark_memory.measure_in_fresh_process(case)
    planned = benchmark_memory.planned(**benchmark_memory.parse_case(case))
    assert abs(planned / measured - 1) <= PLAN_TOLERANCE, (planned, measured)
