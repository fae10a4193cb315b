"""The headline experiment: base vs X-X vs X-Y vs hybrid batches, same data, steps, seed and settings.

One recipe (a :class:`trainer.train.TrainConfig`) is trained once per batch policy, changing nothing
but ``policy`` (and ``out``), so any difference between the runs comes from how batches are composed.
The base model and the three runs are then evaluated on the same benchmarks with the same maximum
sequence length, and ``REPORT.md`` gives the analogue of the paper's Table 1 (mAP in the three
settings) and Table 2 (rank distance) per benchmark, low-resource languages grouped, with plots.

A run folder that already holds a training card is evaluated, not retrained (``reuse``), so an
interrupted comparison continues where it stopped; embeddings come from the evaluation cache.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from corpora.languages import is_low_resource
from trainer.card import TrainingCard
from corpora.settings import Settings, get_settings
from trainer import metrics
from trainer.report import fmt, grouped_bars, heatmap, ordered_languages, pair_matrix
from trainer.train import TrainConfig

POLICIES: tuple[str, ...] = ("xx", "xy", "hybrid")
DEFAULT_BENCHMARKS: tuple[str, ...] = ("xquad-r", "constitutions", "milpac")
LABELS = {"base": "base (untuned)", "xx": "X-X", "xy": "X-Y", "hybrid": "hybrid"}

# Figures quoted for reference; each row says where it comes from. Rows are only for XQuAD-R:
# the paper reports no legal sets, and we quote no figure we could not check.
REFERENCE_ROWS: dict[str, list[tuple[str, dict[str, float]]]] = {
    "xquad-r": [
        ("paper's best: LaBSE, hybrid (arXiv 2408.10536, Tables 1-2)",
         {"map_mono": 0.817, "map_cross": 0.767, "map_multi": 0.682, "rank_distance": 221}),
        ("e5-small untuned, independent evaluation (issue 4)",
         {"map_mono": 0.799, "map_cross": 0.639, "map_multi": 0.298, "rank_distance": 1232}),
    ],
}
TARGETS = {"xquad-r": {"map_multi": 0.70, "rank_distance": 200, "map_mono": 0.80}}


@dataclass
class CompareConfig:
    """One comparison.

    Args:
        recipe: the training run shared by all policies; its ``policy`` and ``out`` are replaced.
        runs: folder for the trained models (``runs/<policy>``).
        report: folder for ``REPORT.md``, ``compare.json``, the plots and ``results/<benchmark>/<model>.json``.
        policies: batch policies to train (the hybrid one uses ``recipe.alpha``).
        benchmarks: benchmarks to evaluate every model on.
        eval_langs, eval_limit: passed to ``corpora.load_benchmark`` (``None``: everything).
        eval_max_seq_length: every model, base and trained, is evaluated at this length.
        reuse: evaluate a run folder that has a training card instead of training it again.
        command: the command line, quoted in the report.
    """

    recipe: TrainConfig
    runs: Path
    report: Path = Path("reports")
    policies: tuple[str, ...] = POLICIES
    benchmarks: tuple[str, ...] = DEFAULT_BENCHMARKS
    eval_langs: list[str] | None = None
    eval_limit: int | None = None
    eval_max_seq_length: int = 512
    reuse: bool = True
    command: str = ""
    notes: list[str] = field(default_factory=list)


def _log(message: str) -> None:
    print(f"[compare] {message}", file=sys.stderr, flush=True)


def train_runs(config: CompareConfig, *, settings: Settings, train_fn: Callable[..., Path]) -> dict[str, str]:
    """Train (or reuse) one model per policy; returns ``{"base": spec, policy: folder}``."""
    models = {"base": config.recipe.model}
    for policy in config.policies:
        out = Path(config.runs) / policy
        if config.reuse and (out / "training_card.json").is_file():
            _log(f"{policy}: reusing {out} (it has a training card)")
        else:
            # an interrupted run continues from its last checkpoint; a fresh one starts from scratch
            resume = any((out / "checkpoints").glob("checkpoint-*"))
            _log(f"{policy}: training into {out}" + (" (resuming)" if resume else ""))
            train_fn(replace(config.recipe, policy=policy, out=out, resume=resume), settings=settings)
        models[policy] = str(out)
    return models


def evaluate_models(config: CompareConfig, models: dict[str, str], *, settings: Settings,
                    load_fn: Callable[..., object]) -> dict[str, dict[str, dict]]:
    """``results[benchmark][model name]``: the full evaluation of every model on every benchmark."""
    from corpora import load_benchmark
    from trainer.embedding_cache import model_fingerprint
    from trainer.evaluate import evaluate

    benchmarks = {name: load_benchmark(name, langs=config.eval_langs, limit=config.eval_limit, settings=settings)
                  for name in config.benchmarks}
    results: dict[str, dict[str, dict]] = {name: {} for name in benchmarks}
    for model_name, spec in models.items():
        model = load_fn(spec, settings=settings)
        model.max_seq_length = config.eval_max_seq_length
        key = model_fingerprint(model)
        for bench_name, benchmark in benchmarks.items():
            _log(f"evaluating {model_name} on {bench_name}")
            result = evaluate(model, benchmark, cache_root=settings.cache, model_key=key, progress=True)
            results[bench_name][model_name] = {"model": spec, "model_key": key, **result}
    return results


def run_compare(
    config: CompareConfig,
    *,
    settings: Settings | None = None,
    train_fn: Callable[..., Path] | None = None,
    load_fn: Callable[..., object] | None = None,
) -> Path:
    """Train, evaluate and write the report; returns the path of ``REPORT.md``.

    ``train_fn`` (default :func:`trainer.train.train`) and ``load_fn`` (default
    :func:`trainer.encoder.load_encoder`) are parameters so the experiment's bookkeeping can be
    tested without training.
    """
    if train_fn is None:
        from trainer.train import train as train_fn
    if load_fn is None:
        from trainer.encoder import load_encoder as load_fn
    settings = settings or get_settings()
    unknown = set(config.policies) - set(POLICIES)
    if unknown:
        raise ValueError(f"unknown policies {sorted(unknown)}; valid: {list(POLICIES)}")

    started = time.time()
    models = train_runs(config, settings=settings, train_fn=train_fn)
    trained = time.time()
    results = evaluate_models(config, models, settings=settings, load_fn=load_fn)
    evaluated = time.time()


    cards = {policy: TrainingCard.load(models[policy]) for policy in config.policies}
    report = Path(config.report)
    for bench_name, by_model in results.items():
        folder = report / "results" / bench_name
        folder.mkdir(parents=True, exist_ok=True)
        for model_name, result in by_model.items():
            (folder / f"{model_name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    plots = plot_comparison(results, report)
    meta = {
        "command": config.command,
        "recipe": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config.recipe).items()},
        "models": models,
        "benchmarks": list(config.benchmarks),
        "eval": {"langs": config.eval_langs, "limit": config.eval_limit, "max_seq_length": config.eval_max_seq_length},
        "time_s": {"train_or_reuse": round(trained - started, 1), "evaluate": round(evaluated - trained, 1)},
        "hardware": _hardware(),
        "training": {p: _card_summary(c) for p, c in cards.items()},
        "notes": config.notes,
    }
    summary = {bench: {m: r["summary"] for m, r in by_model.items()} for bench, by_model in results.items()}
    (report / "compare.json").write_text(json.dumps({"meta": meta, "summary": summary}, indent=2,
                                                    ensure_ascii=False) + "\n")
    path = report / "REPORT.md"
    path.write_text(comparison_markdown(results, meta, plots))
    _log(f"report: {path}")
    return path


def _hardware() -> dict:
    from trainer.card import hardware, library_versions

    return {**hardware(), "platform": platform.platform(), "libraries": library_versions()}


def _card_summary(card: TrainingCard | None) -> dict | None:
    if card is None:
        return None
    loss = card.extra.get("loss") or {}
    return {"steps": card.steps, "epochs": card.extra.get("epochs"), "seed": card.seed, "alpha": card.alpha,
            "hyperparameters": card.hyperparameters, "data": card.data, "time": card.time,
            "best_checkpoint": card.extra.get("best_checkpoint"), "stopped_early": card.extra.get("stopped_early"),
            "hardware": card.hardware, "label": card.label, "loss_first": loss.get("first"), "loss_last": loss.get("last")}


# --- report -------------------------------------------------------------------------------------

def _group_mean(result: dict, key: str, low: bool) -> float | None:
    values = [v.get(key) for lang, v in result["languages"].items()
              if v.get("queries") and is_low_resource(lang) == low and v.get(key) is not None]
    mean = metrics.macro_average(values)
    return None if np.isnan(mean) else mean


def comparison_markdown(results: dict[str, dict[str, dict]], meta: dict, plots: dict[str, dict[str, str]]) -> str:
    """``REPORT.md``: per benchmark, Table 1 (mAP), Table 2 (rank distance), resource groups, plots."""
    recipe = meta["recipe"]
    lines = [
        "# Hybrid batches on Polylex: base vs X-X vs X-Y vs hybrid",
        "",
        f"Training recipe, identical for every policy except the policy itself: data `{','.join(recipe['train'])}`, "
        f"{recipe['batch_size']} pairs per batch, lr {recipe['lr']}, max steps {recipe['max_steps']}, epochs "
        f"{recipe['epochs']}, seed {recipe['seed']}, scale {recipe['scale']}, max length {recipe['max_seq_length']}, "
        f"frozen word embeddings: {recipe['freeze_embeddings']}, hybrid alpha {recipe['alpha']}. "
        f"Evaluation: every model at max length {meta['eval']['max_seq_length']}, LAReQA settings "
        "(mAP over the full ranking, macro-averaged over query languages).",
        "",
    ]
    for bench, by_model in results.items():
        lines += [f"## {bench}", ""]
        counts = next(iter(by_model.values()))["counts"]
        lines += [f"{counts['queries']} queries, {counts['candidates']} candidates, languages: "
                  f"{', '.join(sorted(counts['queries_per_language']))}.", ""]
        lines += ["**Table 1: mAP**", "", "| model | mono | cross | multi |", "|---|---|---|---|"]
        for name, result in by_model.items():
            s = result["summary"]
            lines.append(f"| {LABELS.get(name, name)} | {fmt(s['map_mono'])} | {fmt(s['map_cross'])} | "
                         f"{fmt(s['map_multi'])} |")
        for label, ref in REFERENCE_ROWS.get(bench, []):
            lines.append(f"| *{label}* | {fmt(ref['map_mono'])} | {fmt(ref['map_cross'])} | {fmt(ref['map_multi'])} |")
        lines += ["", "**Table 2: rank distance** (lower: less language bias; median, 90th percentile and mean "
                  "rank gap are the robust companions)", "",
                  "| model | rank distance | median | p90 | mean rank gap |", "|---|---|---|---|---|"]
        for name, result in by_model.items():
            s = result["summary"]
            lines.append(f"| {LABELS.get(name, name)} | {fmt(s['rank_distance'], 1)} | "
                         f"{fmt(s['rank_distance_median'], 1)} | {fmt(s['rank_distance_p90'], 1)} | "
                         f"{fmt(s['mean_rank_gap'], 1)} |")
        for label, ref in REFERENCE_ROWS.get(bench, []):
            lines.append(f"| *{label}* | {fmt(ref.get('rank_distance'), 0)} | - | - | - |")
        groups = [low for low in (False, True) if any(
            is_low_resource(lang) == low for lang in counts["queries_per_language"])]
        if len(groups) == 2:
            lines += ["", "**By resource level** (mean over query languages of each group)", "",
                      "| model | high: mono | high: cross | high: multi | low: mono | low: cross | low: multi |",
                      "|---|---|---|---|---|---|---|"]
            for name, result in by_model.items():
                cells = [fmt(_group_mean(result, f"map_{s}", low)) for low in (False, True)
                         for s in ("mono", "cross", "multi")]
                lines.append(f"| {LABELS.get(name, name)} | " + " | ".join(cells) + " |")
        if bench in TARGETS and "hybrid" in by_model:
            s, t = by_model["hybrid"]["summary"], TARGETS[bench]
            met = [f"{k} {fmt(s[k], 3 if k.startswith('map') else 1)} "
                   f"({'meets' if _meets(s[k], v, k) else 'misses'} {v})" for k, v in t.items()]
            lines += ["", "Project targets for hybrid: " + "; ".join(met) + "."]
        lines += [""] + [f"![{name}]({file})" for name, file in plots.get(bench, {}).items()] + [""]

    lines += ["## How this was made", ""]
    if meta.get("command"):
        lines += ["```", meta["command"], "```", ""]
    lines += ["- models: " + ", ".join(f"{LABELS.get(k, k)} `{v}`" for k, v in meta["models"].items())]
    for policy, card in meta["training"].items():
        if card:
            t = card.get("time") or {}
            lines.append(f"- {LABELS.get(policy, policy)}: {card.get('steps')} steps, {fmt(t.get('seconds'), 0)} s, "
                         f"{fmt(t.get('pairs_per_second'), 1)} pairs/s, loss {fmt(card.get('loss_first'))} -> "
                         f"{fmt(card.get('loss_last'))}")
    hw = meta["hardware"]
    lines += [f"- hardware: {hw.get('device')} ({hw.get('gpu') or hw.get('cpu')}, {hw.get('cpu_count')} CPUs, "
              f"{hw.get('torch_threads')} torch threads), {hw.get('platform')}",
              f"- time: training {meta['time_s']['train_or_reuse']} s (0 where reused), "
              f"evaluation {meta['time_s']['evaluate']} s",
              "- per-model results: `results/<benchmark>/<model>.json`; all summaries: `compare.json`"]
    lines += [f"- {note}" for note in meta.get("notes") or []]
    return "\n".join(lines) + "\n"


def _meets(value: float | None, target: float, key: str) -> bool:
    if value is None:
        return False
    return value <= target if key == "rank_distance" else value >= target


def plot_comparison(results: dict[str, dict[str, dict]], out_dir: Path) -> dict[str, dict[str, str]]:
    """Per benchmark: mAP bars per setting and model, rank distance per query language, heatmaps side by side."""
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    plots: dict[str, dict[str, str]] = {}
    for bench, by_model in results.items():
        names = list(by_model)
        files = {"map": f"{bench}_map.png", "rank_distance": f"{bench}_rank_distance.png",
                 "heatmaps": f"{bench}_heatmaps.png"}
        grouped_bars(["mono", "cross", "multi"],
                     {LABELS.get(n, n): [by_model[n]["summary"][f"map_{s}"] for s in ("mono", "cross", "multi")]
                      for n in names},
                     f"{bench}: mAP per setting", "mAP", out_dir / files["map"], languages=False)
        langs = ordered_languages(list(next(iter(by_model.values()))["pairs"]))
        grouped_bars(langs, {LABELS.get(n, n): [by_model[n]["languages"][x].get("rank_distance") for x in langs]
                             for n in names},
                     f"{bench}: rank distance per query language", "rank distance", out_dir / files["rank_distance"])
        candidates = ordered_languages(sorted({y for result in by_model.values()
                                               for row in result["pairs"].values() for y in row}))
        fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names) + 1, 4.4), squeeze=False)
        for ax, name in zip(axes[0], names):
            heatmap(pair_matrix(by_model[name], langs, candidates, "map"), langs, candidates,
                    f"{LABELS.get(name, name)}: mAP", cmap="viridis", vmin=0.0, vmax=1.0, ax=ax,
                    digits=1 if len(candidates) > 6 else 2)
        fig.tight_layout()
        fig.savefig(out_dir / files["heatmaps"], dpi=110)
        plt.close(fig)
        plots[bench] = files
    return plots
