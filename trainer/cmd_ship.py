"""Package a trained LoRA run as the adapter Polylex ships (models/polylex-hybrid/), with its card.

Copies the adapter files (no base weights, no tokenizer), records their sha256, the training data
and their licences, the figures of the evaluation JSONs given with --figures and the command that
rebuilds the folder, and writes README.md from the same card. Refuses an adapter over 8 MiB.

Example:
    python -m trainer ship --run runs/polylex-hybrid-merged --out models/polylex-hybrid --force \\
        --figures xquad-r=reports/polylex-hybrid/xquad-r.json,constitutions=reports/polylex-hybrid/constitutions.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from trainer.cli import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, help="an adapter run (trainer train --lora-rank, or its merge)")
    parser.add_argument("--out", default="models/polylex-hybrid", help="the shipped folder (default models/polylex-hybrid)")
    parser.add_argument("--figures", default="",
                        help="BENCHMARK=EVALUATE_JSON pairs, comma-separated: the figures the card quotes")
    parser.add_argument("--force", action="store_true", help="replace an existing --out")


def run(args: argparse.Namespace) -> int:
    from trainer.adapters import AdapterError
    from trainer.ship import Figures, ship

    figures = []
    for item in (i for i in args.figures.split(",") if i.strip()):
        name, sep, path = item.partition("=")
        if not sep or not Path(path).is_file():
            raise UsageError(f"--figures takes BENCHMARK=PATH with an existing evaluate JSON, got {item!r}")
        figures.append(Figures.read(name.strip(), path))
    try:
        out = ship(args.run, args.out, figures=figures, force=args.force)
    except AdapterError as exc:
        raise UsageError(str(exc)) from exc
    print(out)
    return 0
