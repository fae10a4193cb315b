"""Dense against hybrid search, question by question, on the questions of a whole benchmark that hybrid
fuses keyword evidence for (``--queries fused`` of ``python -m app evaluate``): which questions the
reference gate helps and which it hurts. How the two faults behind README "How the gate got there" were
found (a Chinese or Thai question counted as one word; "Internet2" looked up as the number 2).

The store is built once through the product path (``app.evaluate.build_store``) into ``--store`` and
reused by later runs; each question is then scored alone with the trainer's metrics.

Usage: python scripts/hybrid_per_question.py --benchmark xquad-r --model runs/lora-r16-merged \
           --store /tmp/xq-store [--json out.json]
About 15 minutes on 2 cores for all of XQuAD-R (the store's encoding), seconds per question after.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.evaluate import ask_and_score, build_store, fused_queries
from app.keyword_text import quoted_phrases
from app.store import Store
from corpora import load_benchmark
from trainer.encoder import load_encoder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", default="xquad-r")
    parser.add_argument("--model", default="default")
    parser.add_argument("--store", type=Path, required=True, help="folder for the store, reused when it exists")
    parser.add_argument("--json", type=Path, help="write every question's figures here")
    args = parser.parse_args()
    benchmark = load_benchmark(args.benchmark)
    encoder = load_encoder(args.model)
    mapping = args.store / "chunk_to_candidate.pickle"
    if mapping.exists():
        store, chunk_to_candidate = Store.open(args.store), pickle.loads(mapping.read_bytes())
    else:
        store, chunk_to_candidate, _ = build_store(benchmark, encoder, args.store)
        mapping.write_bytes(pickle.dumps(chunk_to_candidate))
    rows = []
    for query in fused_queries(benchmark).queries:
        if quoted_phrases(query.text):
            continue  # a quoted phrase is only marked: hybrid ranks these as dense does
        one = replace(benchmark, queries=[query], relevant={query.id: benchmark.relevant[query.id]},
                      groups={query.id: benchmark.groups[query.id]} if query.id in benchmark.groups else {})
        row = {"id": query.id, "lang": query.lang, "text": query.text}
        for mode in ("dense", "hybrid"):
            s = ask_and_score(one, encoder, store, chunk_to_candidate, mode=mode, keywords="references")["summary"]
            row[mode] = {k: round(s[k], 3) for k in ("map_mono", "map_multi", "rank_distance")}
        rows.append(row)
        print(f"{row['hybrid']['map_multi'] - row['dense']['map_multi']:+.3f}  {query.lang}  {query.text}", flush=True)
    store.close()
    print(f"{len(rows)} questions, multilingual AP hybrid - dense summed: "
          f"{sum(r['hybrid']['map_multi'] - r['dense']['map_multi'] for r in rows):+.3f}")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
