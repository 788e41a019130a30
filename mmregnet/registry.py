"""mmregnet's registries: children of mmengine's roots with scope ``mmregnet``.

Any OpenMMLab host (mmpretrain, mmdet, ...) reaches them as
``type='mmregnet.RegNet'``: mmengine imports ``mmregnet.registry`` on the first
lookup of the ``mmregnet`` scope, and ``locations`` imports the modules that
register into it, so neither ``custom_imports`` nor an explicit import is
needed. Nothing is registered into the hosts' own registries, which already
hold a ``RegNet`` of their own.

Every registry's ``locations`` include :mod:`mmregnet.engine`, whose import
installs mmregnet's checkpoint loaders (``mmregnet://``, one-line errors,
exact loading) and file backend in mmengine
(:mod:`mmregnet.engine.registration`, the one place that changes mmengine):
a config that uses the scope has them before it loads a checkpoint. This
module itself only creates the registries.
"""
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import Registry

MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    scope='mmregnet',
    # mmregnet.engine: the checkpoint loaders of backbones' init_cfg;
    # mmregnet.detection: mmdet's RoI extractor (when mmdet is installed)
    locations=[
        'mmregnet.models', 'mmregnet.deploy.int8_runtime',
        'mmregnet.detection', 'mmregnet.engine'
    ])
HOOKS = Registry(
    'hook',
    parent=MMENGINE_HOOKS,
    scope='mmregnet',
    locations=['mmregnet.engine'])
METRICS = Registry(
    'metric',
    parent=MMENGINE_METRICS,
    scope='mmregnet',
    locations=['mmregnet.evaluation', 'mmregnet.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    scope='mmregnet',
    locations=['mmregnet.engine'])
STRATEGIES = Registry(
    'strategy',
    parent=MMENGINE_STRATEGIES,
    scope='mmregnet',
    locations=['mmregnet.engine'])
