"""How much of a model's language bias is a constant per-language offset in embedding space?

    python scripts/language_offset.py default runs/hybrid-long-merged [--benchmark xquad-r] [--json OUT]

For each model: the LAReQA scores as they are, and again after subtracting from every query and
every candidate the mean embedding of its language (computed over the benchmark's own texts,
without labels) and re-normalising. If removing the means closes the gap, the bias is an offset a
linear fix removes; if not, what limits multilingual ranking is cross-lingual matching itself.
A diagnostic, not a method Polylex applies: embeddings come from the evaluation cache
(run `python -m trainer evaluate` first, or they are encoded here).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

KEYS = ("map_mono", "map_cross", "map_multi", "rank_distance", "rank_distance_median")


def remove_language_means(vectors: np.ndarray, langs: np.ndarray) -> np.ndarray:
    centred = vectors.copy()
    for lang in np.unique(langs):
        centred[langs == lang] -= vectors[langs == lang].mean(axis=0)
    return centred / np.linalg.norm(centred, axis=1, keepdims=True)


def main() -> int:
    from corpora.registry import load_benchmark
    from corpora.settings import get_settings
    from trainer.encoder import load_encoder
    from trainer.evaluate import embed_benchmark, rank_benchmark, score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="default, run folders or hub ids")
    parser.add_argument("--benchmark", default="xquad-r")
    parser.add_argument("--json", type=Path, default=Path("reports/results/language_offset.json"))
    args = parser.parse_args()

    bench = load_benchmark(args.benchmark)
    query_langs = np.array([q.lang for q in bench.queries])
    candidate_langs = np.array([c.lang for c in bench.candidates])
    results = {}
    for spec in args.models:
        queries, candidates, _ = embed_benchmark(load_encoder(spec), bench, cache_root=get_settings().cache,
                                                 progress=True)
        as_is = score(rank_benchmark(bench, queries, candidates))["summary"]
        centred = score(rank_benchmark(bench, remove_language_means(queries, query_langs),
                                       remove_language_means(candidates, candidate_langs)))["summary"]
        results[spec] = {"as_is": {k: round(as_is[k], 4) for k in KEYS},
                         "language_means_removed": {k: round(centred[k], 4) for k in KEYS}}
        print(spec, json.dumps(results[spec]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"benchmark": args.benchmark, "models": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
