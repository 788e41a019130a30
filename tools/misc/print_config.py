"""Print a config with all its bases merged (and --cfg-options applied)."""
import argparse
import sys

from mmengine.config import DictAction

from mmregnet.engine.config import ConfigError, read_config


def main():
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    try:
        cfg = read_config(args.config)
    except ConfigError as error:
        sys.exit(f'error: {error}')
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    print(cfg.pretty_text)


if __name__ == '__main__':
    main()
