"""Train X-X, X-Y and hybrid on one recipe, evaluate them and the base model, write reports/REPORT.md.

Takes every flag of `train` (the shared recipe: data, steps, seed, learning rate, --alpha for hybrid);
only the batch policy differs between the runs: --policies picks them. --out is the folder of the
runs (OUT/xx, OUT/xy, OUT/hybrid); a run that already has a training card is evaluated, not retrained
(--retrain forces it), and one with checkpoints but no card resumes from the last (train's --policy
and --resume are ignored). Early stopping is off by default (--patience 0) so
every policy trains for the same number of steps. Every model is evaluated at --eval-max-seq-length
(512) on --benchmarks; embeddings are cached as in `evaluate`.

Examples:
    python -m trainer compare --train mlqa-r-dev --max-steps 200 --freeze-embeddings --out runs/compare
    python -m trainer compare --train mlqa-r-dev,afriqa --epochs 3 --out runs/gpu --report reports/gpu
    python -m trainer compare --train mlqa-r-dev --out runs/compare --eval-limit 50   # a quick look
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from corpora.settings import get_settings
from trainer.cli import UsageError

# train's own flags (beyond the data flags config_from reads), copied into the shared recipe
TRAIN_FLAGS = ("epochs", "lr", "warmup", "max_steps", "freeze_embeddings", "max_seq_length", "scale",
               "eval_steps", "patience", "save_steps", "logging_steps")


def configure(parser: argparse.ArgumentParser) -> None:
    from trainer import cmd_train
    from trainer.compare import DEFAULT_BENCHMARKS, POLICIES

    cmd_train.configure(parser)  # the shared recipe; --out is the runs folder: OUT/xx, OUT/xy, OUT/hybrid
    parser.set_defaults(patience=0)  # no early stopping: every policy runs the same number of steps
    parser.add_argument("--policies", default=",".join(POLICIES),
                        help=f"policies to train, comma-separated (default {','.join(POLICIES)})")
    parser.add_argument("--report", type=Path, default=Path("reports"), help="report folder (default reports)")
    parser.add_argument("--benchmarks", default=",".join(DEFAULT_BENCHMARKS),
                        help=f"benchmarks, comma-separated (default {','.join(DEFAULT_BENCHMARKS)})")
    parser.add_argument("--eval-langs", help="evaluate on these languages only, comma-separated (default: all)")
    parser.add_argument("--eval-limit", type=int, help="evaluate on the first N question groups per benchmark")
    parser.add_argument("--eval-max-seq-length", type=int, default=512, help="evaluation max length (default 512)")
    parser.add_argument("--retrain", action="store_true", help="train again even where a run folder has a card")
    parser.add_argument("--cache", help="cache folder (default: POLYLEX_CACHE)")
    parser.add_argument("--note", action="append", default=[], help="a line for the report (repeatable)")


def run(args: argparse.Namespace) -> int:
    from trainer.cmd_batches import config_from
    from trainer.compare import POLICIES, CompareConfig, run_compare

    policies = tuple(p for p in args.policies.split(",") if p)
    if not policies or set(policies) - set(POLICIES):
        raise UsageError(f"--policies must name some of {','.join(POLICIES)}, got {args.policies!r}")
    settings = get_settings(data=args.data, model=args.model, cache=args.cache)
    recipe = replace(config_from(args, out=Path(args.out), model=settings.model),
                     **{name: getattr(args, name) for name in TRAIN_FLAGS})
    for policy in policies:  # fail on a bad recipe before anything trains
        replace(recipe, policy=policy).check()
    config = CompareConfig(
        recipe=recipe, runs=Path(args.out), report=args.report, policies=policies,
        benchmarks=tuple(b for b in args.benchmarks.split(",") if b),
        eval_langs=[c for c in args.eval_langs.split(",") if c] if args.eval_langs else None,
        eval_limit=args.eval_limit, eval_max_seq_length=args.eval_max_seq_length, reuse=not args.retrain,
        command="python -m trainer compare " + " ".join(shlex.quote(a) for a in sys.argv[2:]), notes=args.note,
    )
    path = run_compare(config, settings=settings)  # its errors are Polylex errors: trainer.cli reports them
    print(path)
    return 0
