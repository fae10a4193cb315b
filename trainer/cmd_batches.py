"""Show what the batch sampler would produce: X-X share, group duplicates, languages per batch.

Draws ``--n`` batches (over as many epochs as needed) from the training data exactly as
``python -m trainer train`` would (same dev hold-out, same seed) and summarises them:
``xx_share`` (fraction of X-X batches), ``duplicate_groups`` (pairs sharing a group within a batch;
always 0), ``query_languages_per_batch`` / ``passage_languages_per_batch`` (histograms),
``batch_language`` (query language of each batch, per kind) and ``language_pairs`` (query-passage).

Example:
    python -m trainer batches --train mlqa-r-dev --policy hybrid --alpha 0.5 --n 1000 --json
"""

from __future__ import annotations

import argparse
import json

from corpora.settings import get_settings
from trainer.cli import UsageError
from trainer.sampling import WEIGHTINGS, draw_batches, summarize_batches
from trainer.train import TrainConfig, load_training_data, make_sampler


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    """Flags shared with ``train``: the data and the batch policy."""
    parser.add_argument("--train", required=True, help="data sets, comma-separated (e.g. mlqa-r-dev,afriqa) or .jsonl files")
    parser.add_argument("--policy", default="hybrid", choices=["xx", "xy", "hybrid"], help="batch policy (default hybrid)")
    parser.add_argument("--alpha", type=float, default=0.5, help="hybrid: probability of an X-X batch (default 0.5)")
    parser.add_argument("--weighting", default="uniform", choices=list(WEIGHTINGS),
                        help="language of a batch: uniform over languages (default), by number of pairs (size), "
                             "or each data set of a mixture equally often, then its languages (set)")
    parser.add_argument("--langs", help="query languages to keep, comma-separated (default: all)")
    parser.add_argument("--passage", default="sentence", choices=["sentence", "context"],
                        help="passage: the answer sentence (default) or the whole paragraph")
    parser.add_argument("--batch-size", type=int, default=32, help="pairs per batch (default 32)")
    parser.add_argument("--seed", type=int, default=42, help="seed (default 42)")
    parser.add_argument("--limit", type=int, help="use this many groups only (quick runs)")
    parser.add_argument("--dev-groups", type=int, default=200, help="groups held out for dev (default 200; at most a tenth)")
    parser.add_argument("--data", help="data folder (default: POLYLEX_DATA)")


def config_from(args: argparse.Namespace, **more: object) -> TrainConfig:
    """A TrainConfig from the shared flags plus ``more`` (train's own flags)."""
    more.setdefault("out", ".")
    return TrainConfig(
        train=[s for s in args.train.split(",") if s],
        policy=args.policy, alpha=args.alpha, weighting=args.weighting,
        langs=[s for s in args.langs.split(",") if s] if args.langs else None, passage=args.passage,
        batch_size=args.batch_size, seed=args.seed, limit=args.limit, dev_groups=args.dev_groups, **more,
    )


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_flags(parser)
    parser.add_argument("--n", type=int, default=1000, help="batches to draw (default 1000)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def run(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise UsageError(f"--n must be at least 1, got {args.n}")
    settings = get_settings(data=args.data)
    config = config_from(args)
    policy = config.check()
    data = load_training_data(config.train, langs=config.langs, passage=config.passage, limit=config.limit,
                              dev_groups=config.dev_groups, seed=config.seed, data_dir=settings.data)
    sampler = make_sampler(data, policy, config.batch_size, config.seed)
    summary = {"sampler": sampler.describe(), "data": data.describe(),
               **summarize_batches(data.rows, draw_batches(sampler, args.n))}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    s = summary
    print(f"{s['batches']} batches of {config.batch_size} ({policy.name}, alpha {policy.xx_probability}): "
          f"X-X share {s['xx_share']:.3f}, duplicate groups {s['duplicate_groups']}, mixed batches {s['mixed_batches']}")
    print(f"epoch: {s['sampler']['batches_per_epoch']} batches; languages: {s['sampler']['languages']}")
    print(f"query languages per batch: {s['query_languages_per_batch']}; "
          f"passage languages per batch: {s['passage_languages_per_batch']}")
    print(f"batch language: {s['batch_language']}")
    print(f"query-passage language pairs: {s['language_pairs']}")
    return 0
