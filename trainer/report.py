"""Markdown report with PNG plots for one evaluation (the JSON of ``trainer.evaluate.evaluate``).

Plots (matplotlib, Agg backend, so it runs headless):

- ``map_heatmap.png``: query language x candidate language mAP (diagonal: monolingual);
- ``map_by_language.png``: monolingual / cross-lingual / multilingual mAP per query language;
- ``rank_distance.png``: mean rank distance per query language, with median and 90th percentile;
- ``rank_gap_heatmap.png``: mean rank gap of each candidate language to the query language.

Languages are ordered high-resource first, then low-resource (``corpora.languages``), and the
tables give each group's mean, so the low-resource languages can be read as a block.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers or in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from corpora.languages import is_low_resource, language_name  # noqa: E402
from trainer import metrics  # noqa: E402

REPORT_NAME = "REPORT.md"


def ordered_languages(codes: Sequence[str]) -> list[str]:
    """High-resource languages first, then low-resource; alphabetical within each group."""
    return sorted(codes, key=lambda code: (is_low_resource(code), code))


def fmt(value: float | None, digits: int = 3) -> str:
    """A table cell: ``-`` for undefined numbers."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.{digits}f}" if digits else f"{value:.0f}"


def pair_matrix(result: dict, rows: list[str], cols: list[str], key: str) -> np.ndarray:
    """``(rows, cols)`` array of ``result["pairs"][row][col][key]``, ``nan`` where undefined."""
    pairs = result["pairs"]
    matrix = np.full((len(rows), len(cols)), np.nan)
    for i, x in enumerate(rows):
        for j, y in enumerate(cols):
            value = pairs.get(x, {}).get(y, {}).get(key)
            if value is not None:
                matrix[i, j] = value
    return matrix


def heatmap(matrix: np.ndarray, rows: list[str], cols: list[str], title: str, path: Path | None = None, *,
            cmap: str, vmin: float | None = None, vmax: float | None = None, digits: int = 2, ax=None) -> None:
    """Query x candidate language heatmap, annotated when small; saved to ``path`` or drawn on ``ax``."""
    fig = None
    if ax is None:
        size = max(4.0, 0.55 * max(len(rows), len(cols)) + 2)
        fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(len(cols)), cols, rotation=90 if len(cols) > 12 else 0)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("candidate language")
    ax.set_ylabel("query language")
    ax.set_title(title)
    if len(rows) * len(cols) <= 400:  # annotate while the numbers stay legible
        for (i, j), value in np.ndenumerate(matrix):
            if not np.isnan(value):
                r, g, b, _ = image.cmap(image.norm(value))
                ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"  # legible on any cell
                ax.text(j, i, f"{value:.{digits}f}", ha="center", va="center", fontsize=7, color=ink)
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    if fig is not None:
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)


def grouped_bars(labels: list[str], series: dict[str, list[float | None]], title: str, ylabel: str, path: Path,
                 *, languages: bool = True) -> None:
    """One group of bars per label, one bar per series; ``languages``: star the low-resource labels."""
    fig, ax = plt.subplots(figsize=(max(6.0, 0.3 * len(labels) * len(series) + 2), 4))
    width = 0.8 / len(series)
    x = np.arange(len(labels))
    for k, (name, values) in enumerate(series.items()):
        heights = [np.nan if v is None else v for v in values]
        ax.bar(x + (k - (len(series) - 1) / 2) * width, heights, width, label=name)
    starred = languages and any(is_low_resource(label) for label in labels)
    ax.set_xticks(x, [f"{label}*" if starred and is_low_resource(label) else label for label in labels])
    ax.set_ylabel(ylabel)
    ax.set_title(title + ("  (* low-resource)" if starred else ""))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot(result: dict, out_dir: Path) -> dict[str, str]:
    """Write the PNG plots of one evaluation into ``out_dir``; returns ``{plot name: file name}``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    query_langs = ordered_languages(list(result["pairs"]))
    candidate_langs = ordered_languages(sorted({y for row in result["pairs"].values() for y in row}))
    per_lang = result["languages"]
    files = {
        "map_heatmap": "map_heatmap.png",
        "map_by_language": "map_by_language.png",
        "rank_distance": "rank_distance.png",
        "rank_gap_heatmap": "rank_gap_heatmap.png",
    }
    heatmap(pair_matrix(result, query_langs, candidate_langs, "map"), query_langs, candidate_langs,
            "mAP per language pair (diagonal: monolingual)", out_dir / files["map_heatmap"],
            cmap="viridis", vmin=0.0, vmax=1.0)
    grouped_bars(query_langs, {setting: [per_lang[x].get(f"map_{setting}") for x in query_langs]
                        for setting in ("mono", "cross", "multi")},
                 "mAP per query language", "mAP", out_dir / files["map_by_language"])

    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(query_langs) + 2), 4))
    x = np.arange(len(query_langs))
    mean = [per_lang[q].get("rank_distance") for q in query_langs]
    ax.bar(x, [np.nan if v is None else v for v in mean], 0.6, label="mean", color="tab:blue")
    for key, marker, label in (("rank_distance_median", "o", "median"), ("rank_distance_p90", "v", "90th percentile")):
        values = [per_lang[q].get(key) for q in query_langs]
        ax.plot(x, [np.nan if v is None else v for v in values], marker, color="black", label=label, linestyle="")
    ax.set_xticks(x, [f"{q}*" if is_low_resource(q) else q for q in query_langs])
    ax.set_ylabel("rank distance (max - min rank of relevant)")
    ax.set_title("Rank distance per query language (lower: less language bias)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / files["rank_distance"], dpi=120)
    plt.close(fig)

    heatmap(pair_matrix(result, query_langs, candidate_langs, "mean_rank_gap"), query_langs, candidate_langs,
            "Mean rank gap to the query language (pooled ranking)", out_dir / files["rank_gap_heatmap"],
            cmap="magma_r", vmin=0.0, digits=0)
    return files


def _group_rows(langs: list[str], row: Callable[[str], list[str]],
                values: Callable[[str], list[float | None]], digits: list[int]) -> list[str]:
    """Table rows per language, with a mean row after each resource group."""
    lines = []
    for low in (False, True):
        group = [lang for lang in langs if is_low_resource(lang) == low]
        if not group:
            continue
        lines += ["| " + " | ".join(row(lang)) + " |" for lang in group]
        columns = list(zip(*(values(lang) for lang in group)))
        means = [metrics.macro_average(v for v in column if v is not None) for column in columns]
        label = "**low-resource mean**" if low else "**high-resource mean**"
        cells = " | ".join(fmt(m, d) for m, d in zip(means, digits))
        lines.append(f"| {label} | {len(group)} languages | | {cells} |")
    return lines


def markdown(result: dict, plots: dict[str, str] | None = None, *, title: str | None = None,
             notes: Sequence[str] = ()) -> str:
    """The report as Markdown; ``plots`` maps plot names to image files beside it; ``notes`` are more
    bullet lines under the header (what a caller adds, e.g. the product path's own figures)."""
    summary = result["summary"]
    per_lang = result["languages"]
    query_langs = ordered_languages(list(result["pairs"]))
    model = result.get("model", "?")
    lines = [
        f"# {title or 'Evaluation: ' + str(model) + ' on ' + result['benchmark']}",
        "",
        f"- model: `{model}`" + (f" (weights hash `{result['model_key']}`)" if result.get("model_key") else ""),
        f"- benchmark: `{result['benchmark']}`: {result['counts']['queries']} queries, "
        f"{result['counts']['candidates']} candidates"
        + (f", {result['counts']['relevant']} relevant pairs" if "relevant" in result["counts"] else ""),
        "- settings (LAReQA): mono = candidates of the query's language; cross = each other language "
        "alone, averaged; multi = all languages pooled. mAP over the full ranking, macro-averaged over "
        "query languages. Rank distance = max - min pooled rank of a query's relevant candidates.",
        *notes,
        "",
        "## Summary",
        "",
        "| setting | mAP | Recall@1 | Recall@10 |",
        "|---|---|---|---|",
    ]
    for setting in ("mono", "cross", "multi"):
        lines.append(f"| {setting} | {fmt(summary.get(f'map_{setting}'))} | "
                     f"{fmt(summary.get(f'recall_at_1_{setting}'))} | {fmt(summary.get(f'recall_at_10_{setting}'))} |")
    lines += [
        "",
        f"Rank distance: mean {fmt(summary.get('rank_distance'), 1)}, "
        f"median {fmt(summary.get('rank_distance_median'), 1)}, "
        f"90th percentile {fmt(summary.get('rank_distance_p90'), 1)}; mean rank gap to the query language "
        f"{fmt(summary.get('mean_rank_gap'), 1)}.",
        "",
        "## Per query language",
        "",
        "| language | name | queries | mAP mono | mAP cross | mAP multi | R@10 multi | rank dist. | median | p90 "
        "| gap as candidate |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    keys = ["map_mono", "map_cross", "map_multi", "recall_at_10_multi", "rank_distance",
            "rank_distance_median", "rank_distance_p90", "mean_rank_gap_as_candidate"]
    digits = [3, 3, 3, 3, 1, 1, 1, 1]

    def values(lang: str) -> list[float | None]:
        return [per_lang[lang].get(k) for k in keys]

    def row(lang: str) -> list[str]:
        cells = [fmt(v, d) for v, d in zip(values(lang), digits)]
        return [lang, language_name(lang), str(per_lang[lang]["queries"]), *cells]

    lines += _group_rows(query_langs, row, values, digits)
    lines += ["", "'gap as candidate': how many places, on average, this language's best relevant candidate "
              "sits below the query language's own in the pooled ranking (over the other query languages)."]
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{name}]({file})" for name, file in plots.items()]
    timing = result.get("timing", {})
    if "encode_s" in timing:
        lines += ["", f"Encoding {fmt(timing.get('encode_s'), 1)} s ({timing.get('encoded', 0)} texts encoded, "
                      f"the rest from cache), scoring {fmt(timing.get('score_s'), 1)} s."]
    return "\n".join(lines) + "\n"


def write_report(result: dict, out_dir: Path, *, title: str | None = None, notes: Sequence[str] = ()) -> Path:
    """Write ``REPORT.md`` and its plots into ``out_dir``; returns the Markdown file's path."""
    out_dir = Path(out_dir)
    plots = plot(result, out_dir)
    path = out_dir / REPORT_NAME
    path.write_text(markdown(result, plots, title=title, notes=notes))
    return path
