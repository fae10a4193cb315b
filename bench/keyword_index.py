"""Keyword search alone (BM25 in SQLite FTS5), per language, for the index forms a store could keep.

    python bench/keyword_index.py [--xquad-limit 200] [--out bench/results/keyword_index.json]

Variants (each an in-memory FTS5 table of the same passages, queried with every word of the question):

- ``unicode61``: the raw text under FTS5's ``unicode61`` tokenizer (the SQLite store until now);
- ``trigram``: the raw text under FTS5's ``trigram`` tokenizer (substring matching; words under three
  characters cannot be looked up);
- ``shipped``: :func:`app.keyword_text.index_form` and :func:`app.keyword_text.query_terms`, what
  both stores now index and ask (folding, marks kept inside words, digits apart, unspaced scripts and
  Ethiopic one grapheme per token, query words of 6+ characters also looked up by their first 5);
- its ablations: ``folded`` (neither Ethiopic syllables nor prefixes), ``folded+prefix``,
  ``folded+ethiopic``.

Tasks, all monolingual (keyword search cannot cross languages): XQuAD-R questions against the
sentences of their language (11 languages), MILPaC questions against the answers (10 Indian
languages), AmQA dev questions against their contexts (Amharic), and **numbers**: each NTREX-128
sentence holding a number, searched for by that number alone in all 128 languages' sentences of its
language — the "Article 12" lookup, per script. Reported per language: Recall@10 and MRR (a question
the index matches nothing for counts 0), and the share of questions matched at all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

import regex

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import keyword_text as kt

Task = tuple[str, list[str], list[tuple[str, set[int]]]]  # language, passages, (query, relevant passage indexes)


def xquad_tasks(limit: int) -> list[Task]:
    from corpora import load_benchmark

    bench = load_benchmark("xquad-r", limit=limit)
    return _benchmark_tasks(bench)


def milpac_tasks() -> list[Task]:
    from corpora import load_benchmark

    return _benchmark_tasks(load_benchmark("milpac"))


def _benchmark_tasks(bench) -> list[Task]:
    tasks = []
    for lang in bench.languages:
        cands = bench.candidates_in(lang)
        index = {c.id: i for i, c in enumerate(cands)}
        queries = [(q.text, {index[r] for r in bench.relevant[q.id] if r in index}) for q in bench.queries_in(lang)]
        tasks.append((lang, [c.text for c in cands], [(q, rel) for q, rel in queries if rel]))
    return tasks


def amqa_tasks() -> list[Task]:
    from corpora import load_pairs

    pairs = load_pairs("amqa", split="dev", passage="context")
    passages = list(dict.fromkeys(p.passage for p in pairs))
    index = {p: i for i, p in enumerate(passages)}
    return [("am", passages, [(p.query, {index[p.passage]}) for p in pairs])]




def number_tasks() -> list[Task]:
    """Per NTREX language: each sentence holding a number (1-4 digits, standalone or glued to letters as
    in 第12条), queried by the number; relevant: every sentence of the language holding it."""
    from corpora.files import data_root
    from corpora.ntrex import ntrex_units

    units = ntrex_units(Path(data_root()) / "ntrex-128")
    by_lang: dict[str, list[str]] = {}
    for unit in units:
        for lang, text in unit.candidates.items():
            by_lang.setdefault(lang, []).append(text)
    tasks = []
    for lang, sentences in sorted(by_lang.items()):
        holding: dict[str, set[int]] = {}
        for i, text in enumerate(sentences):
            for number in set(_raw_numbers(text)):
                holding.setdefault(number, set()).add(i)
        queries = [(number, rel) for number, rel in holding.items() if len(rel) <= 10]
        tasks.append((lang, sentences, queries))
    return tasks


def _raw_numbers(text: str) -> list[str]:
    return [m.group() for m in regex.finditer(r"\p{Nd}+", text) if len(m.group()) <= 4]


# --- index variants ------------------------------------------------------------------------------

def _raw_query(query: str) -> str:
    words = [w for w in "".join(ch if ch.isalnum() else " " for ch in query).split() if w]
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


def _folded_query(query: str) -> str:
    return kt.fts5_query(kt.query_terms(query))


WITHOUT_ETHIOPIC = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]\p{M}*")


def _ablated(fn: Callable[[str], str], *, ethiopic: bool = True, prefixes: bool = True) -> Callable[[str], str]:
    """``fn`` with a part of the shipped form turned off (measurement only)."""
    def wrapped(text: str) -> str:
        saved = kt._GRAPHEME_UNSPACED, kt.PREFIX_FROM
        if not ethiopic:
            kt._GRAPHEME_UNSPACED = WITHOUT_ETHIOPIC
        if not prefixes:
            kt.PREFIX_FROM = 10**9
        try:
            return fn(text)
        finally:
            kt._GRAPHEME_UNSPACED, kt.PREFIX_FROM = saved
    return wrapped


FOLDED_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
VARIANTS: dict[str, tuple[str, Callable[[str], str], Callable[[str], str]]] = {
    "unicode61": ("unicode61", lambda t: t, _raw_query),
    "trigram": ("trigram", lambda t: t, _raw_query),
    "folded": (FOLDED_TOKENIZER, _ablated(kt.index_form, ethiopic=False),
               _ablated(_folded_query, ethiopic=False, prefixes=False)),
    "folded+prefix": (FOLDED_TOKENIZER, _ablated(kt.index_form, ethiopic=False), _ablated(_folded_query, ethiopic=False)),
    "folded+ethiopic": (FOLDED_TOKENIZER, kt.index_form, _ablated(_folded_query, prefixes=False)),
    "shipped": (FOLDED_TOKENIZER, kt.index_form, _folded_query),
}


def run_task(variant: str, task: Task) -> dict:
    tokenizer, form, to_query = VARIANTS[variant]
    _, passages, queries = task
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize=\"{tokenizer}\")")
    db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", ((i, form(p)) for i, p in enumerate(passages)))
    recall, rr, answered = [], [], []
    for query, relevant in queries:
        match = to_query(query)
        ranked = [r[0] for r in db.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rank LIMIT 100",
                                           [match]).fetchall()] if match else []
        answered.append(bool(ranked))
        ranks = [ranked.index(i) + 1 for i in relevant if i in ranked]
        recall.append(sum(1 for r in ranks if r <= 10) / len(relevant))
        rr.append(1 / min(ranks) if ranks else 0.0)
    db.close()
    n = max(len(queries), 1)
    return {"queries": len(queries), "recall_at_10": round(sum(recall) / n, 4), "mrr": round(sum(rr) / n, 4),
            "answered": round(sum(answered) / n, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad-limit", type=int, default=200)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "keyword_index.json"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    started = time.time()
    suites = {"xquad-r": xquad_tasks(args.xquad_limit), "milpac": milpac_tasks(), "amqa": amqa_tasks(),
              "numbers": number_tasks()}
    results: dict = {}
    for suite, tasks in suites.items():
        for variant in args.variants.split(","):
            per_lang = {task[0]: run_task(variant, task) for task in tasks}
            mean = {key: round(sum(v[key] for v in per_lang.values()) / len(per_lang), 4)
                    for key in ("recall_at_10", "mrr", "answered")}
            results.setdefault(suite, {})[variant] = {"mean": mean, "languages": per_lang}
            print(f"{suite:8s} {variant:16s} R@10 {mean['recall_at_10']:.3f} MRR {mean['mrr']:.3f} "
                  f"answered {mean['answered']:.3f}", flush=True)
    out = {"command": "python bench/keyword_index.py " + " ".join(sys.argv[1:]), "date": time.strftime("%Y-%m-%d"),
           "sqlite": sqlite3.sqlite_version, "seconds": round(time.time() - started, 1),
           "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_before": load_before,
                       "load_avg_after": os.getloadavg()},
           "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
