"""The dev split's retrieval task and the evaluator that scores a model on it during training.

Training keeps its best checkpoint and stops early on this score; ``trainer.merge`` rebuilds the
same task from a run's card to choose the merge weight. Evaluation benchmarks (XQuAD-R, the legal
sets) are never used here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from corpora.records import Benchmark, Pair
from trainer.pairs import dev_benchmark, dev_benchmark_in_context, pool_benchmarks

# Training sets with sentence breaks: their pairs' group prefix -> the LAReQA benchmark over all their
# sentences, from which the dev task takes the held-out questions and their paragraphs' sentences.
IN_CONTEXT_BENCHMARKS = {"mlqa": "mlqa-r"}
DEV_METRICS = ("map_avg", "map_mono", "map_cross", "map_multi", "recall_at_1_multi", "rank_distance")


def dev_task(dev: Sequence[Pair], *, passage: str = "sentence", data_dir: str | Path | None = None) -> Benchmark:
    """The retrieval task of the dev split, made as hard as the data allows; every held-out pair is in it.

    MLQA-R dev groups: their questions against every sentence of the paragraphs holding their
    answers (``trainer.pairs.dev_benchmark_in_context``), the LAReQA setting; the answer sentences
    alone saturate within a hundred steps (mAP 0.88, no signal left to stop on). Dev pairs of
    other data (AfriQA, JSONL files): their questions against the held-out passages
    (``trainer.pairs.dev_benchmark``). Several parts are pooled into one task.
    """
    from corpora.registry import load_benchmark

    parts, rest = [], list(dev)
    if passage == "sentence":
        for prefix, name in IN_CONTEXT_BENCHMARKS.items():
            held_out = [p for p in rest if p.group.startswith(f"{prefix}:")]
            if held_out:
                full = load_benchmark(name, langs=sorted({p.lang for p in held_out}), data_dir=data_dir)
                parts.append(dev_benchmark_in_context(held_out, full))
                rest = [p for p in rest if not p.group.startswith(f"{prefix}:")]
    if rest:
        parts.append(dev_benchmark(rest, "dev"))
    return pool_benchmarks(parts, "dev")


def dev_evaluator(benchmark: Benchmark, batch_size: int):
    """The sentence-transformers evaluator that scores a model on ``benchmark`` (``dev_task``)."""
    from sentence_transformers.base.evaluation.evaluator import BaseEvaluator

    class DevEvaluator(BaseEvaluator):
        """mAP (full ranking) of the held-out questions against all held-out passages, via trainer.evaluate.

        ``map_avg`` (the mean of the mono-, cross- and multilingual mAP that the dev data defines)
        picks the best checkpoint: the point of hybrid batches is to gain on all three at once.
        """

        def __init__(self) -> None:
            super().__init__()
            self.benchmark = benchmark
            self.primary_metric = "map_avg"

        def __call__(self, model, output_path=None, epoch: float = -1, steps: int = -1) -> dict[str, float]:
            from trainer.evaluate import rank_benchmark, score

            bench = self.benchmark
            queries = model.encode_query([q.text for q in bench.queries], batch_size=batch_size,
                                         convert_to_numpy=True, normalize_embeddings=True)
            candidates = model.encode_document([c.text for c in bench.candidates], batch_size=batch_size,
                                               convert_to_numpy=True, normalize_embeddings=True)
            summary = score(rank_benchmark(bench, queries, candidates))["summary"]
            maps = [summary[k] for k in ("map_mono", "map_cross", "map_multi") if summary.get(k) is not None]
            metrics = {"map_avg": sum(maps) / len(maps)} if maps else {}
            metrics.update({k: summary[k] for k in DEV_METRICS[1:] if summary.get(k) is not None})
            metrics = self.prefix_name_to_metrics(metrics, "dev")
            self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
            return metrics

    return DevEvaluator()
