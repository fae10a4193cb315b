"""``python -m trainer COMMAND``: each command lives in its own module.

A command module defines ``configure(parser)`` (its flags; its docstring is the help text) and
``run(args) -> int``. Bad arguments, and any Polylex error a command lets through (the whole
``PolylexError`` family: unknown data sets, bad JSONL, damaged adapters ...), end with one
``error: ...`` line on stderr and exit code 2; commands need not list the errors they expect.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from corpora.errors import PolylexError
from trainer.errors import TrainerError

COMMANDS = {
    "build-default": "trainer.cmd_build_default",
    "batches": "trainer.cmd_batches",
    "train": "trainer.cmd_train",
    "evaluate": "trainer.cmd_evaluate",
    "bitext": "trainer.cmd_bitext",
    "compare": "trainer.cmd_compare",
    "merge": "trainer.cmd_merge",
    "ship": "trainer.cmd_ship",
}


class UsageError(TrainerError, ValueError):
    """Bad arguments or input: shown to the user as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainer", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)  # a command that fails to import is a bug: say so
        doc = (module.__doc__ or name).strip()
        command = sub.add_parser(name, help=doc.splitlines()[0], description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        module.configure(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except PolylexError as exc:  # UsageError is one of them
        print(f"error: {exc}", file=sys.stderr)
        return 2
