"""Evaluate an encoder on a retrieval benchmark: mAP (mono / cross / multi), Recall@k, rank distance.

Candidate and query embeddings are cached under <cache>/embeddings/, keyed by the model's weights,
so evaluating the same model again encodes nothing. Progress goes to stderr.

Examples:
    python -m trainer evaluate --model base --benchmark xquad-r --json out/base.json --report out/base
    python -m trainer evaluate --model default --benchmark xquad-r --json out/default.json --report out/default
    python -m trainer evaluate --model runs/hybrid --benchmark constitutions --langs de en fr --json -
    python -m trainer evaluate --benchmark my_benchmark.jsonl --limit 100
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from corpora.settings import get_settings
from trainer.cli import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="default, a model folder (runs/NAME) or a hub id (default: POLYLEX_MODEL)")
    parser.add_argument("--benchmark", required=True,
                        help="xquad-r, mlqa-r, constitutions, milpac, or a benchmark FILE.jsonl")
    parser.add_argument("--langs", nargs="+", help="only these languages (space- or comma-separated codes)")
    parser.add_argument("--limit", type=int, help="load at most N items per language (see corpora.load_benchmark)")
    parser.add_argument("--json", metavar="OUT", help="write the full result as JSON to OUT ('-': stdout)")
    parser.add_argument("--report", metavar="DIR", type=Path, help="write REPORT.md and PNG plots into DIR")
    parser.add_argument("--max-seq-length", type=int, default=512,
                        help="tokens per text (default 512, the LAReQA protocol; the same for base and trained models)")
    parser.add_argument("--batch-size", type=int, default=32, help="encoder batch size (default 32)")
    parser.add_argument("--device", help="torch device for encoding (default: the model's choice)")
    parser.add_argument("--no-cache", action="store_true", help="encode everything; read and write no cache")
    parser.add_argument("--cache", help="cache folder (default: POLYLEX_CACHE)")
    parser.add_argument("--data", help="data folder (default: POLYLEX_DATA)")


def parse_langs(values: list[str] | None) -> list[str] | None:
    """``["de,en", "fr"]`` -> ``["de", "en", "fr"]``; ``None`` stays ``None`` (all languages)."""
    if not values:
        return None
    return [code for value in values for code in value.split(",") if code]


def summary_lines(result: dict) -> list[str]:
    """A few human-readable lines for stdout when no JSON is asked for."""
    s = result["summary"]

    def f(key: str, digits: int = 3) -> str:
        value = s.get(key)
        return "-" if value is None else f"{value:.{digits}f}"

    return [
        f"{result['model']} on {result['benchmark']}: {result['counts']['queries']} queries, "
        f"{result['counts']['candidates']} candidates",
        f"mAP        mono {f('map_mono')}  cross {f('map_cross')}  multi {f('map_multi')}",
        f"Recall@1   mono {f('recall_at_1_mono')}  cross {f('recall_at_1_cross')}  multi {f('recall_at_1_multi')}",
        f"Recall@10  mono {f('recall_at_10_mono')}  cross {f('recall_at_10_cross')}  multi {f('recall_at_10_multi')}",
        f"rank distance  mean {f('rank_distance', 1)}  median {f('rank_distance_median', 1)}  "
        f"p90 {f('rank_distance_p90', 1)}  mean gap {f('mean_rank_gap', 1)}",
    ]


def load_model(args: argparse.Namespace, settings):
    """The model of ``--model`` on ``--device``, read at ``--max-seq-length``, and its fingerprint (the cache key).

    A trained run keeps its training length (often 128) in its config; models are compared at one length."""
    from trainer.embedding_cache import model_fingerprint
    from trainer.encoder import load_encoder

    try:
        model = load_encoder(settings.model, settings=settings, device=args.device)
    except (ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from exc
    model.max_seq_length = args.max_seq_length
    return model, model_fingerprint(model)


def run(args: argparse.Namespace) -> int:
    from corpora import load_benchmark
    from trainer.evaluate import evaluate
    from trainer.report import write_report

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.max_seq_length < 8:
        raise UsageError(f"--max-seq-length must be at least 8, got {args.max_seq_length}")
    settings = get_settings(cache=args.cache, data=args.data, model=args.model)
    langs = parse_langs(args.langs)
    try:
        benchmark = load_benchmark(args.benchmark, langs=langs, limit=args.limit, settings=settings)
    except (ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from exc
    if not benchmark.queries or not benchmark.candidates:
        raise UsageError(f"benchmark {args.benchmark!r} has no queries or no candidates for languages {langs}")
    model, model_key = load_model(args, settings)
    result = evaluate(model, benchmark, cache_root=None if args.no_cache else settings.cache,
                      model_key=model_key, batch_size=args.batch_size, progress=True)
    result = {"model": settings.model, "model_key": model_key,
              "options": {"langs": langs, "limit": args.limit, "max_seq_length": args.max_seq_length,
                          "batch_size": args.batch_size}, **result}

    if args.report is not None:
        path = write_report(result, args.report)
        print(f"report: {path}", file=sys.stderr)
    if args.json == "-":
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        if args.json:
            out = Path(args.json)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print("\n".join(summary_lines(result)))
    return 0
