"""Fold a RegNet classifier's (or detector's) BatchNorms into its
convolutions and save the deploy-mode checkpoint (atomically).

    python tools/deployment/reparameterize_model.py CONFIG CHECKPOINT OUT

The checkpoint's ``meta`` says ``deploy=True`` (with the backbone's
``arch`` and ``width_rounding``); ``tools/test.py CONFIG OUT`` and
``get_model(CONFIG, pretrained=OUT)`` recognise it and build the backbone in
deploy mode (elsewhere: ``model.backbone.deploy=True``, as for mmpretrain's
RepVGG / MobileOne). CONFIG is a config file or a model name of
``mmregnet.list_models()``.
"""
import argparse


def main(argv=None):
    from mmregnet.apis import get_model
    from mmregnet.deploy import switch_to_deploy
    from mmregnet.fileio import atomic_torch_save
    from mmregnet.models.loading import backbone_meta
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file or model name')
    parser.add_argument('checkpoint', help='checkpoint of the config')
    parser.add_argument('out', help='where to write the deploy checkpoint')
    args = parser.parse_args(argv)
    model = get_model(args.config, pretrained=args.checkpoint).eval()
    switch_to_deploy(model)
    meta = dict(
        dataset_meta=getattr(model, 'dataset_meta', None) or {},
        **backbone_meta(model))
    atomic_torch_save(dict(state_dict=model.state_dict(), meta=meta),
                      args.out)
    print(f'wrote {args.out} (deploy mode: tools/test.py and get_model '
          'recognise it; elsewhere set model.backbone.deploy=True)')


if __name__ == '__main__':
    main()
