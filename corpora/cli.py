"""``python -m corpora COMMAND``: what data is there, and is my JSONL file valid.

Commands:
    list [--json] [--data DIR]   every data set found, its languages and counts, one line each
    validate FILE.jsonl          check a user's pairs or benchmark file; names the first bad line
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from corpora.files import data_root
from corpora.jsonl import JsonlFormatError, read_jsonl
from corpora.registry import DataSet, available, load_benchmark, load_pairs, set_languages


def describe(entry: DataSet, data_dir: Path) -> dict:
    """Languages and counts of one data set; the first benchmark is its headline."""
    info: dict = {"name": entry.name, "title": entry.title, "source": entry.source, "licence": entry.licence}
    try:
        info["languages"] = set_languages(entry.name, data_dir)
        info["benchmarks"] = {}
        for name in entry.benchmarks:
            bench = load_benchmark(name, data_dir=data_dir)
            info["benchmarks"][name] = {
                "queries": len(bench.queries), "candidates": len(bench.candidates), "languages": bench.languages,
            }
        headline = info["benchmarks"].get(entry.benchmarks[0], {}) if entry.benchmarks else {}
        info["queries"] = headline.get("queries")
        info["candidates"] = headline.get("candidates")
        info["pairs_by_split"] = {split: len(load_pairs(entry.name, split=split, data_dir=data_dir))
                                  for split in entry.splits}
        info["pair_split"] = entry.default_split
        info["pairs"] = info["pairs_by_split"].get(entry.default_split) if entry.splits else None
    except Exception as exc:  # noqa: BLE001 - a damaged folder must not hide the others; it is reported
        info["error"] = f"{type(exc).__name__}: {exc}"
    return info


def _line(info: dict) -> str:
    if "error" in info:
        return f"{info['name']:<24} ERROR {info['error']}"
    counts = []
    for key in ("queries", "candidates"):
        if info.get(key) is not None:
            counts.append(f"{key} {info[key]:,}")
    if info.get("pairs") is not None:
        counts.append(f"pairs {info['pairs']:,} ({info['pair_split']})")
    extra = [b for b in info["benchmarks"]][1:]
    more = f"  +benchmarks {', '.join(extra)}" if extra else ""
    langs = info["languages"]
    return f"{info['name']:<24} {len(langs):>2} langs  {'  '.join(counts)}{more}  [{' '.join(langs)}]"


def cmd_list(args: argparse.Namespace) -> int:
    root = data_root(args.data)
    found, missing = available(root)
    sets = [describe(entry, root) for entry in found]
    report = {
        "data_dir": str(root),
        "sets": sets,
        "missing": [{"name": d.name, "looked_for": str(root / d.name), "source": d.source} for d in missing],
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(f"data in {root}")
        for info in sets:
            print(_line(info))
        if missing:
            print(f"absent ({len(missing)}), looked for in {root} (set POLYLEX_DATA or --data):")
            for d in missing:
                print(f"  {d.name:<24} from {d.source}")
    return 0 if found else 1


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        parsed = read_jsonl(args.file)
    except JsonlFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError:
        print(f"error: no such file {args.file}", file=sys.stderr)
        return 2
    if parsed.kind == "pairs":
        counts = f"{len(parsed.pairs)} pairs, {len({p.group for p in parsed.pairs})} groups"
    elif parsed.units:
        counts = f"{len(parsed.units)} parallel units"
    else:
        counts = f"{len(parsed.queries)} queries, {len(parsed.candidates)} candidates"
    print(f"ok: {args.file}: {parsed.kind} file, {counts}, languages {' '.join(parsed.languages)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m corpora", description=__doc__.splitlines()[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="data sets found, their languages and counts",
                             description="List every data set found in the data folder with its languages and "
                                         "counts (benchmark queries and candidates, training pairs).\n\n"
                                         "Example: python -m corpora list --json > sets.json",
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    listing.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    listing.add_argument("--data", type=Path, default=None, help="data folder (default: POLYLEX_DATA or ../shared/data)")
    listing.set_defaults(_run=cmd_list)
    validate = sub.add_parser("validate", help="check a pairs or benchmark .jsonl file",
                              description="Check a user's JSONL file (format: docs/DATA_FORMAT.md). Prints "
                                          "'ok: ...' or the first bad line as FILE:LINE: problem (exit 1).\n\n"
                                          "Example: python -m corpora validate my_pairs.jsonl",
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    validate.add_argument("file", type=Path)
    validate.set_defaults(_run=cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args._run(args) or 0)
