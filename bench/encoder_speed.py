"""Encoder speed, fp32 torch vs int8 (torch dynamic quantisation of every Linear), and what it costs.

    python bench/encoder_speed.py [--limit 100] [--threads 1]

Speed on the same texts for both: XQuAD paragraphs (chunk-sized, what ingestion encodes), XQuAD-R
candidate sentences, and one short query at a time (what a search waits for). Quality: mAP on an
XQuAD-R slice (``--limit`` question groups per language, all 11 languages; LAReQA protocol through
``trainer.evaluate``), monolingual, cross-lingual and multilingual, fp32 vs int8.

Two int8 variants: every Linear layer, and the feed-forward layers only. A variant is worth
offering when it is faster and loses < 0.01 mAP in every setting (``worth_offering``). Writes ``bench/results/encoder_speed.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def quantize_int8(model, only: str | None = None):
    """A copy of ``model`` whose Linear layers run int8 matmuls (weights int8, activations
    quantised on the fly); embeddings, LayerNorm and pooling stay fp32. ``only="ffn"`` quantises
    just the feed-forward layers (two thirds of the matmul work), keeping attention in fp32."""
    import torch

    copy_ = copy.deepcopy(model)
    if only is None:
        return torch.ao.quantization.quantize_dynamic(copy_, {torch.nn.Linear}, dtype=torch.qint8)
    names = {name for name, module in copy_.named_modules() if isinstance(module, torch.nn.Linear)
             and (name.endswith("intermediate.dense") or (name.endswith("output.dense") and "attention" not in name))}
    spec = {name: torch.ao.quantization.default_dynamic_qconfig for name in names}
    return torch.ao.quantization.quantize_dynamic(copy_, spec, dtype=torch.qint8)


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=100, help="XQuAD-R question groups per language")
    parser.add_argument("--paragraphs", type=int, default=120, help="XQuAD paragraphs timed as chunks")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "encoder_speed.json"))
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import torch

    from app.ingest import encode_passages
    from app.search import encode_query
    from corpora.registry import load_benchmark
    from corpora.settings import get_settings
    from trainer.encoder import load_encoder
    from trainer.evaluate import rank_benchmark, score

    torch.set_num_threads(args.threads)
    bench = load_benchmark("xquad-r", limit=args.limit)
    data = get_settings().data
    paragraphs = []
    for lang in sorted({c.lang for c in bench.candidates}):
        squad = json.loads((data / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        paragraphs += [p["context"] for a in squad["data"] for p in a["paragraphs"]][: args.paragraphs // 11 + 1]
    paragraphs = paragraphs[: args.paragraphs]
    short_queries = [q.text for q in bench.queries][::max(1, len(bench.queries) // 40)][:40]

    fp32 = load_encoder("base")
    models = {"fp32": fp32, "int8": quantize_int8(fp32), "int8_ffn_only": quantize_int8(fp32, only="ffn")}
    out: dict[str, dict] = {}
    for name, model in models.items():
        encode_passages(model, paragraphs[:8])  # warm-up
        t_par, _ = timed(encode_passages, model, paragraphs)
        latencies = []
        for query in short_queries:
            t, _ = timed(encode_query, model, query)
            latencies.append(t)
        t_q, queries = timed(lambda: model.encode_query([q.text for q in bench.queries], batch_size=64,
                                                       normalize_embeddings=True, convert_to_numpy=True))
        t_c, candidates = timed(encode_passages, model, [c.text for c in bench.candidates])
        summary = score(rank_benchmark(bench, np.asarray(queries), candidates))["summary"]
        out[name] = {
            "paragraphs_per_s": round(len(paragraphs) / t_par, 2),
            "sentences_per_s": round(len(bench.candidates) / t_c, 2),
            "query_p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 2),
            "query_p95_ms": round(float(np.percentile(latencies, 95)) * 1000, 2),
            "map_mono": round(summary["map_mono"], 4), "map_cross": round(summary["map_cross"], 4),
            "map_multi": round(summary["map_multi"], 4),
        }
        print(name, out[name], file=sys.stderr)

    fp = out["fp32"]
    loss = {name: {k: round(fp[k] - out[name][k], 4) for k in ("map_mono", "map_cross", "map_multi")}
            for name in models if name != "fp32"}
    speedup = {name: {"paragraphs_per_s": round(out[name]["paragraphs_per_s"] / fp["paragraphs_per_s"], 3),
                      "sentences_per_s": round(out[name]["sentences_per_s"] / fp["sentences_per_s"], 3),
                      "query_p50": round(fp["query_p50_ms"] / out[name]["query_p50_ms"], 3)}
               for name in models if name != "fp32"}
    worth = [name for name in loss if all(v < 0.01 for v in loss[name].values())
             and speedup[name]["paragraphs_per_s"] > 1.05]
    result = {
        "benchmark": "encoder fp32 vs int8 (torch dynamic quantisation of Linear layers)",
        "command": "python bench/encoder_speed.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "threads": args.threads,
                    "torch": torch.__version__, "quantized_engine": torch.backends.quantized.engine,
                    "load_avg_at_end": os.getloadavg()},
        "data": {"xquad_r_limit": args.limit, "queries": len(bench.queries), "candidates": len(bench.candidates),
                 "paragraphs": len(paragraphs), "timed_single_queries": len(short_queries)},
        "results": out, "speedup_vs_fp32": speedup, "map_loss_vs_fp32": loss,
        "worth_offering": worth,
        "rule": "offer a faster path only if it loses < 0.01 mAP in every setting",
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
