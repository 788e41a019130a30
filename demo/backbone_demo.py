"""Smoke run of the backbone: the arch table, analytic complexity and a
RegNetY feature pyramid, built through mmdet's and mmpretrain's registries."""
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

from mmregnet import ARCH_SETTINGS, complexity, stage_specs


def main():
    print(f'{"arch":<15}{"widths":<26}{"depths":<16}'
          f'{"params (M)":>11}{"GFLOPs":>8}')
    for name in ARCH_SETTINGS:
        stages = stage_specs(name)
        cx = complexity(stages)
        print(f'{name:<15}{str([s.width for s in stages]):<26}'
              f'{str([s.depth for s in stages]):<16}'
              f'{cx.params / 1e6:>11.3f}{cx.flops / 1e9:>8.3f}')

    for host, registry in (('mmpretrain', MMPRETRAIN_MODELS),
                           ('mmdet', MMDET_MODELS)):
        backbone = registry.build(
            dict(type='mmregnet.RegNet', arch='regnety_1.6gf',
                 out_indices=(0, 1, 2, 3))).eval()
        built = sum(p.numel() for p in backbone.parameters())
        assert built == backbone.complexity().params
        with torch.no_grad():
            feats = backbone(torch.rand(1, 3, 224, 224))
        print(f'{host}: mmregnet.RegNet regnety_1.6gf, {built:,} params, '
              f'features {[tuple(f.shape) for f in feats]}')


if __name__ == '__main__':
    main()
