"""Print a config with all its bases merged (and --cfg-options applied)."""
import argparse

from mmengine.config import Config, DictAction


def main():
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    print(cfg.pretty_text)


if __name__ == '__main__':
    main()
