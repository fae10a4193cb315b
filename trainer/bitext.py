"""Bitext retrieval: is each sentence's translation its nearest neighbour among the other side's
sentences? The standard Tatoeba score (LASER; MTEB's BitextMining), in both directions.

Both sides are encoded as queries (e5's prompt for symmetric tasks), through the embedding cache,
so a second evaluation of the same model encodes nothing. Ties count as misses only when another
sentence scores strictly higher (a duplicated sentence is not held against the model).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpora.bitext import Bitext
from corpora.languages import resource_level
from trainer.embedding_cache import TextEncoder, cache_folder, encode_cached, model_fingerprint


def nearest_accuracy(source: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """``(source -> target, target -> source)`` accuracy of row-aligned normalised embeddings: the share
    of rows whose own partner scores at least as high as every other row of the other side."""
    scores = source @ target.T
    own = np.diag(scores)
    forward = float(np.mean(own >= scores.max(axis=1)))
    backward = float(np.mean(own >= scores.max(axis=0)))
    return forward, backward


def evaluate_bitexts(model: TextEncoder, bitexts: Sequence[Bitext], *, cache_root: Path | None,
                     model_key: str | None = None, batch_size: int = 32, progress: bool = False) -> dict:
    """Accuracy per file (``xx->en``, ``en->xx``, their mean) and averages over all files and per resource
    level (the language's, :func:`corpora.languages.resource_level`); JSON-ready."""
    started = time.perf_counter()
    key = model_key or (model_fingerprint(model) if cache_root is not None else None)
    per_file: dict[str, dict] = {}
    encoded = 0
    for bitext in bitexts:
        if not bitext.source:
            continue
        folder = cache_folder(cache_root, key, f"bitext-{bitext.name}") if cache_root is not None and key else None
        source, n1 = encode_cached(model, list(bitext.source), "query", folder=folder, batch_size=batch_size,
                                   progress=progress)
        english, n2 = encode_cached(model, list(bitext.english), "query", folder=folder, batch_size=batch_size,
                                    progress=progress)
        encoded += n1 + n2
        forward, backward = nearest_accuracy(source, english)
        per_file[bitext.tag] = {"lang": bitext.lang, "resource": resource_level(bitext.lang), "pairs": len(bitext.source),
                                "to_english": round(forward, 4), "from_english": round(backward, 4),
                                "accuracy": round((forward + backward) / 2, 4)}
    summary: dict[str, float | int] = {"files": len(per_file)}
    for group in ("all", "high", "low"):
        values = [v["accuracy"] for v in per_file.values() if group == "all" or v["resource"] == group]
        summary[f"accuracy_{group}"] = round(float(np.mean(values)), 4) if values else None
        summary[f"files_{group}"] = len(values)
    return {"summary": summary, "files": per_file,
            "timing": {"seconds": round(time.perf_counter() - started, 1), "encoded": encoded}}
