"""Fold a RegNet classifier's (or detector's) BatchNorms into its
convolutions and save the deploy-mode checkpoint (atomically).

    python tools/deployment/reparameterize_model.py CONFIG CHECKPOINT OUT

Load the result into a model built with ``backbone.deploy=True``, e.g.
``python tools/test.py CONFIG OUT --cfg-options model.backbone.deploy=True``
(the same as mmpretrain's RepVGG / MobileOne). CONFIG is a config file or a
model name of ``mmregnet.list_models()``.
"""
import argparse


def main(argv=None):
    from mmregnet.apis import get_model
    from mmregnet.engine.checkpoint import atomic_torch_save
    from mmregnet.deploy import switch_to_deploy
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file or model name')
    parser.add_argument('checkpoint', help='checkpoint of the config')
    parser.add_argument('out', help='where to write the deploy checkpoint')
    args = parser.parse_args(argv)
    model = get_model(args.config, pretrained=args.checkpoint).eval()
    switch_to_deploy(model)
    meta = dict(dataset_meta=getattr(model, 'dataset_meta', None) or {})
    atomic_torch_save(dict(state_dict=model.state_dict(), meta=meta),
                      args.out)
    print(f'wrote {args.out}: load it with model.backbone.deploy=True')


if __name__ == '__main__':
    main()
