"""Interpolate a trained run with its base model (WiSE-FT); the weight is chosen on the run's dev split.

Writes OUT = (1 - w) * base + w * tuned, a normal sentence-transformers folder with a training card
that records the merge. With --weight auto (the default) every weight of --grid is scored on the
run's own held-out dev split (rebuilt from its training card) and the best mean of mono-, cross-
and multilingual mAP wins; no evaluation benchmark is looked at. A table of the sweep goes to stderr.

Examples:
    python -m trainer merge --tuned runs/hybrid --out runs/hybrid-merged
    python -m trainer merge --tuned runs/hybrid --out runs/hybrid-w07 --weight 0.7
    python -m trainer merge --tuned runs/hybrid --out runs/hybrid-merged --grid 0.5,0.75,1
"""

from __future__ import annotations

import argparse
import sys

from corpora.settings import get_settings


def _weights(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"weights are numbers between 0 and 1, got {text!r}") from exc
    if not values or not all(0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"weights are numbers between 0 and 1, got {text!r}")
    return values


def _cell(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def configure(parser: argparse.ArgumentParser) -> None:
    from trainer.merge import DEFAULT_GRID

    parser.add_argument("--tuned", required=True, help="a run folder written by `python -m trainer train`")
    parser.add_argument("--out", required=True, help="output folder for the merged model, e.g. runs/NAME-merged")
    parser.add_argument("--weight", default="auto",
                        help="share of the tuned weights, 0 (base) to 1 (tuned), or 'auto' (default): chosen on dev")
    parser.add_argument("--grid", type=_weights, default=DEFAULT_GRID,
                        help=f"weights tried by --weight auto (default {','.join(map(str, DEFAULT_GRID))})")
    parser.add_argument("--base", help="the model the run started from (default: the card's base_model)")
    parser.add_argument("--data", help="data folder for the dev split (default: POLYLEX_DATA)")


def run(args: argparse.Namespace) -> int:
    from trainer.merge import MergeError, check_out, merge, sweep

    settings = get_settings(data=args.data)
    # errors are Polylex errors (bad run, bad data, bad JSONL ...): trainer.cli reports them
    result = None
    check_out(args.tuned, args.out)
    if args.weight == "auto":
        result = sweep(args.tuned, args.grid, base=args.base, settings=settings)
        print("weight  map_avg  mono   cross  multi  rank_distance", file=sys.stderr)
        for row in result.sweep:
            # a one-language dev split has no cross/multi figures: show a dash, not a crash
            cells = [_cell(row.get(k), digits) for k, digits in
                     (("map_avg", 4), ("map_mono", 3), ("map_cross", 3), ("map_multi", 3), ("rank_distance", 1))]
            mark = "  <- chosen" if row["weight"] == result.weight else ""
            print(f"{row['weight']:<7} " + "  ".join(cells) + mark, file=sys.stderr)
        weight = result.weight
    else:
        try:
            weight = float(args.weight)
        except ValueError as exc:
            raise MergeError(f"--weight is a number between 0 and 1 or 'auto', got {args.weight!r}") from exc
    out = merge(args.tuned, args.out, weight, base=args.base, settings=settings, result=result)
    print(out)
    return 0
