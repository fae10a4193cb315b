"""Diagnostic 1: does a result list mirror the corpus's language mix, or does one language crowd out
the others?"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.diagnostics.common import Diagnostic, _new_figure
from corpora.languages import language_name


@dataclass
class LanguageShares:
    """Share of each language among the results and in the corpus (both sum to 1 over ``languages``).

    ``total_variation`` is ``0.5 * sum |result - corpus|``: 0 when the results mirror the corpus, 1
    when they hold only languages the corpus lacks (``nan`` without results). ``max_over_representation`` is the largest
    ``result share / corpus share`` (1 = no language over-represented; ``inf`` for a language the
    corpus list lacks).
    """

    languages: list[str]
    result_share: np.ndarray
    corpus_share: np.ndarray
    k: int
    total_variation: float
    max_over_representation: float
    most_over_represented: str | None


def language_shares(result_langs: Sequence[str], corpus_langs: Sequence[str] | Mapping[str, int]) -> LanguageShares:
    """Compare the language mix of a result list with the corpus's.

    Args:
        result_langs: language of each result (a chunk), any order.
        corpus_langs: language of each chunk of the corpus the search ran over, or chunk counts per
            language (``Store.languages()``). Restrict it to the languages of a language filter, or
            every filtered search looks biased.

    Returns:
        ``LanguageShares`` over the union of languages, sorted by corpus share then code.
    """
    corpus = Counter(corpus_langs) if not isinstance(corpus_langs, Mapping) else Counter(dict(corpus_langs))
    size = sum(corpus.values())
    if size <= 0:
        raise ValueError("corpus_langs is empty: there is no corpus to compare the results with")
    results = Counter(result_langs)
    languages = sorted(set(results) | set(corpus), key=lambda lang: (-corpus[lang], lang))
    result_share = np.array([results[lang] for lang in languages], dtype=np.float64)
    result_share /= max(len(result_langs), 1)
    corpus_share = np.array([corpus[lang] for lang in languages], dtype=np.float64) / size
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(result_share > 0, result_share / corpus_share, 0.0)
    worst = int(np.argmax(ratio)) if len(result_langs) else None
    return LanguageShares(
        languages=languages,
        result_share=result_share,
        corpus_share=corpus_share,
        k=len(result_langs),
        total_variation=float(0.5 * np.abs(result_share - corpus_share).sum()) if len(result_langs) else float("nan"),
        max_over_representation=float(ratio[worst]) if worst is not None else float("nan"),
        most_over_represented=languages[worst] if worst is not None else None,
    )


def plot_language_shares(shares: LanguageShares) -> Diagnostic:
    """Paired bars per language: share among the results vs. share of the corpus."""
    figure, axes = _new_figure(min(10.0, max(5.0, 0.7 * len(shares.languages) + 3.2)), 3.2)  # + the legend
    x = np.arange(len(shares.languages))
    axes.bar(x - 0.2, shares.result_share, width=0.4, label=f"top {shares.k}", color="tab:blue")
    axes.bar(x + 0.2, shares.corpus_share, width=0.4, label="library", color="tab:gray")
    axes.set_xticks(x, [language_name(lang) for lang in shares.languages], rotation=30, ha="right")
    axes.set_ylabel("share")
    axes.set_ylim(0, 1)
    # Beside the axes, not inside: a share near 1 fills the plot from bottom to top.
    axes.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if shares.k:
        axes.set_title(f"total variation distance {shares.total_variation:.2f}", fontsize=10)
    measured = f" ({shares.total_variation:.2f})" if shares.k else " (no results here)"
    explanation = (
        f"Blue bars show each language's share of the top {shares.k} results, grey bars its share of the "
        f"library; the total variation distance{measured} is 0 when the results mirror "
        "the library's language mix and 1 when they share nothing with it: a value near 0 is good when the "
        "answer exists in several languages, while a high value is expected if only one language holds it."
    )
    return Diagnostic(f"Languages in the top {shares.k} vs. the library", figure, explanation, shares)
