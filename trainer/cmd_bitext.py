"""Bitext retrieval (Tatoeba, NTREX-128's held-out stories): each sentence's translation as its nearest
neighbour, both directions, per language and by resource level.

``tatoeba``: LASER's Tatoeba test set (112 languages, up to 1,000 sentences each; never trained on).
``ntrex``: the NTREX-128 stories held out by ``corpora.ntrex.is_heldout_document`` (293 sentences in each
of its languages; the trainer never trains on them). Embeddings are cached like ``evaluate``'s.

Examples:
    python -m trainer bitext --model default --set ntrex --json reports/bitext/default-ntrex.json
    python -m trainer bitext --model base --set tatoeba --limit 200 --json reports/bitext/base-tatoeba.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from corpora.settings import get_settings
from trainer.cli import UsageError
from trainer.cmd_evaluate import load_model, parse_langs


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="default, base, a model folder (runs/NAME) or a hub id (default: POLYLEX_MODEL)")
    parser.add_argument("--set", required=True, choices=["tatoeba", "ntrex"], help="the bitext set")
    parser.add_argument("--langs", nargs="+", help="only these languages (space- or comma-separated codes)")
    parser.add_argument("--limit", type=int, help="at most N sentence pairs per language (the first ones)")
    parser.add_argument("--json", metavar="OUT", help="write the full result as JSON to OUT")
    parser.add_argument("--max-seq-length", type=int, default=512, help="tokens per text (default 512)")
    parser.add_argument("--batch-size", type=int, default=32, help="encoder batch size (default 32)")
    parser.add_argument("--device", help="torch device for encoding (default: the model's choice)")
    parser.add_argument("--no-cache", action="store_true", help="encode everything; read and write no cache")
    parser.add_argument("--cache", help="cache folder (default: POLYLEX_CACHE)")
    parser.add_argument("--data", help="data folder (default: POLYLEX_DATA)")


def run(args: argparse.Namespace) -> int:
    from corpora.bitext import load_bitexts
    from trainer.bitext import evaluate_bitexts

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    settings = get_settings(cache=args.cache, data=args.data, model=args.model)
    try:
        bitexts = load_bitexts(args.set, langs=parse_langs(args.langs), limit=args.limit, data_dir=settings.data)
    except (ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from exc
    model, model_key = load_model(args, settings)
    result = evaluate_bitexts(model, bitexts, cache_root=None if args.no_cache else settings.cache,
                              model_key=model_key, batch_size=args.batch_size, progress=True)
    result = {"model": settings.model, "model_key": model_key, "set": args.set,
              "options": {"langs": parse_langs(args.langs), "limit": args.limit, "max_seq_length": args.max_seq_length},
              **result}
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    s = result["summary"]
    print(f"{settings.model} on {args.set}: {s['files']} languages; accuracy (mean of both directions) "
          f"all {s['accuracy_all']}, high-resource {s['accuracy_high']} ({s['files_high']}), "
          f"low-resource {s['accuracy_low']} ({s['files_low']})")
    return 0
