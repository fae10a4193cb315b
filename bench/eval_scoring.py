"""Time evaluation's scoring (ranking + metrics) at full XQuAD-R size, encoding excluded.

Random unit vectors of the encoder's shape stand in for embeddings; the relevance structure is
XQuAD-R's own (13,090 queries, 13,014 candidates, 11 relevant each) when ``corpora.load_benchmark``
and the data are there, else a synthetic one of the same shape. The issue's bar: under 60 s.

Usage: python bench/eval_scoring.py [--structure xquad-r|synthetic] [--dim 384] [--chunk 256]
Writes bench/results/eval_scoring.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpora.records import Benchmark, Candidate, Query  # noqa: E402
from trainer.evaluate import RelevantRanks, index_benchmark, rank_relevant, score  # noqa: E402

LANGS = ["ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"]


def synthetic_xquad_r(questions: int = 1190, sentences: int = 1183) -> Benchmark:
    """XQuAD-R's shape: every question in 11 languages, relevant to its answer sentence in each."""
    rng = np.random.default_rng(0)
    answer = rng.integers(0, sentences, questions)
    queries = [Query(f"{lang}-q{i}", lang, "") for lang in LANGS for i in range(questions)]
    candidates = [Candidate(f"{lang}-s{j}", lang, "") for lang in LANGS for j in range(sentences)]
    relevant = {f"{x}-q{i}": {f"{y}-s{answer[i]}" for y in LANGS} for x in LANGS for i in range(questions)}
    return Benchmark("synthetic-xquad-r", queries, candidates, relevant)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structure", choices=["xquad-r", "synthetic"], default="xquad-r")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "eval_scoring.json")
    args = parser.parse_args()

    if args.structure == "xquad-r":
        from corpora import load_benchmark

        benchmark = load_benchmark("xquad-r")
    else:
        benchmark = synthetic_xquad_r()
    languages, query_lang, candidate_lang, relevant, _ = index_benchmark(benchmark)
    rng = np.random.default_rng(0)

    def unit(n: int) -> np.ndarray:
        vectors = rng.standard_normal((n, args.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    queries, candidates = unit(len(benchmark.queries)), unit(len(benchmark.candidates))
    started = time.perf_counter()
    own, pooled = rank_relevant(queries, candidates, relevant, candidate_lang, len(languages), chunk=args.chunk)
    ranked = time.perf_counter()
    relevant_lang = np.where(relevant >= 0, candidate_lang[np.where(relevant >= 0, relevant, 0)], -1)
    result = score(RelevantRanks(languages, query_lang, relevant_lang, own, pooled))
    done = time.perf_counter()

    record = {
        "benchmark": benchmark.name,
        "queries": len(benchmark.queries),
        "candidates": len(benchmark.candidates),
        "relevant": int((relevant >= 0).sum()),
        "dim": args.dim,
        "chunk": args.chunk,
        "rank_s": round(ranked - started, 2),
        "metrics_s": round(done - ranked, 2),
        "total_s": round(done - started, 2),
        "target_s": 60,
        # random vectors: chance level, a sanity check that nothing is degenerate
        "map_multi_random": result["summary"]["map_multi"],
        "cpu": platform.processor() or platform.machine(),
        "cpus_available": len(os.sched_getaffinity(0)),
        "numpy": np.__version__,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
