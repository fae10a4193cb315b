"""AfriQA (Ogundepo et al. 2023): questions in ten African languages against en/fr Wikipedia passages.

Files (JSON lines), per African language ``xx`` (AfriQA's ISO 639-3 folder names: hau, yor, ...),
pivot language ``en`` or ``fr`` (fr for fon and wol) and split::

    data/queries/xx/queries.afriqa.xx.<pivot>.<split>.json            id, question, translated_question
    data/gold_passages/xx/gold_span_passages.afriqa.xx.<pivot>.<split>.json   id, context, answer_pivot

Queries and gold passages are joined on ``id`` within one language and split. Questions without a
gold passage (all of wol; swa train/dev; yor dev) and empty passages are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from corpora.files import read_json_lines, require
from corpora.languages import normalize_code
from corpora.parallel import check_limit, select_langs
from corpora.records import Benchmark, Candidate, Pair, Query
from corpora.squad import PASSAGE_KINDS, PassageKind, sentence_index, sentence_spans

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class AfriqaItem:
    """One joined question: African-language question, its human en/fr translation, gold passage."""

    group: str
    lang: str
    question: str
    translated_question: str
    pivot_lang: str
    passage: str
    answer_start: int | None


def _text(value: object) -> str:
    """A stripped string; missing texts appear as null or NaN (a float) in a few AfriQA lines."""
    return value.strip() if isinstance(value, str) else ""


def folder_languages(folder: Path) -> dict[str, str]:
    """Our code -> AfriQA folder name, for every language with a queries folder."""
    queries = require(folder / "data" / "queries", "AfriQA queries")
    return {normalize_code(p.name): p.name for p in sorted(queries.iterdir()) if p.is_dir()}


def iter_items(folder: Path, split: str, langs: Iterable[str] | None = None) -> Iterator[AfriqaItem]:
    """Joined items of ``split`` for the chosen languages (our codes), in file order."""
    if split not in SPLITS:
        raise ValueError(f"AfriQA split must be one of {SPLITS}, got {split!r}")
    names = folder_languages(folder)
    for lang in select_langs(langs, names, "afriqa"):
        name = names[lang]
        for gold_path in sorted((folder / "data" / "gold_passages" / name).glob(f"*.{split}.json")):
            pivot = gold_path.name.split(".")[-3]  # gold_span_passages.afriqa.<xx>.<pivot>.<split>.json
            query_path = folder / "data" / "queries" / name / f"queries.afriqa.{name}.{pivot}.{split}.json"
            queries = {str(q["id"]): q for q in read_json_lines(query_path)} if query_path.exists() else {}
            for gold in read_json_lines(gold_path):
                passage = _text(gold.get("context"))
                query = queries.get(str(gold["id"]), {})
                # The query file is authoritative for question texts; the gold file repeats them.
                question = _text(query.get("question")) or _text(gold.get("question_lang"))
                translated = _text(query.get("translated_question")) or _text(gold.get("question_translated"))
                if not passage or not (question or translated):
                    continue
                starts = (gold.get("answer_pivot") or {}).get("answer_start") or []
                yield AfriqaItem(
                    group=f"afriqa:{name}:{split}:{gold['id']}",
                    lang=lang,
                    question=question,
                    translated_question=translated,
                    pivot_lang=pivot,
                    passage=passage,
                    answer_start=int(starts[0]) if starts else None,
                )


def _passage(item: AfriqaItem, passage: PassageKind) -> str:
    if passage == "context" or item.answer_start is None:
        return item.passage.strip()
    spans = sentence_spans(item.passage)
    s, e = spans[sentence_index(spans, item.answer_start)]
    return item.passage[s:e].strip()


def afriqa_pairs(
    folder: Path, *, split: str = "train", langs: Iterable[str] | None = None, passage: PassageKind = "context"
) -> list[Pair]:
    """Per question: (African question, en/fr passage) and (its en/fr translation, same passage), one group.

    ``langs`` picks the African-language subsets (our codes: ha, yo, sw, bem, ...); each subset yields
    both pairs. ``passage="sentence"`` cuts the passage down to the sentence holding the pivot answer.
    """
    if passage not in PASSAGE_KINDS:
        raise ValueError(f"passage must be one of {PASSAGE_KINDS}, got {passage!r}")
    pairs: list[Pair] = []
    for item in iter_items(folder, split, langs):
        text = _passage(item, passage)
        if item.question:
            pairs.append(Pair(item.group, item.lang, item.question, text, item.pivot_lang))
        if item.translated_question:
            pairs.append(Pair(item.group, item.pivot_lang, item.translated_question, text, item.pivot_lang))
    return pairs


def afriqa_benchmark(
    folder: Path, *, split: str = "test", langs: Iterable[str] | None = None, limit: int | None = None
) -> Benchmark:
    """Cross-lingual QA retrieval: African-language questions -> their gold en/fr passage.

    Candidates are the distinct gold passages of the split (identical passages shared by several
    questions are one candidate, relevant to all of them). Only the African-language questions are
    queries; ``limit`` keeps the first ``limit`` per language and the passages they need.
    """
    check_limit(limit)
    items = list(iter_items(folder, split, langs))
    per_lang: dict[str, int] = {}
    candidate_ids: dict[str, str] = {}
    candidates: list[Candidate] = []
    queries: list[Query] = []
    relevant: dict[str, set[str]] = {}
    groups: dict[str, str] = {}
    for item in items:
        if not item.question or (limit is not None and per_lang.get(item.lang, 0) >= limit):
            continue
        per_lang[item.lang] = per_lang.get(item.lang, 0) + 1
        text = item.passage.strip()
        key = f"{item.pivot_lang}\n{text}"
        if key not in candidate_ids:
            candidate_ids[key] = f"c:{item.pivot_lang}:{len(candidate_ids)}"
            candidates.append(Candidate(candidate_ids[key], item.pivot_lang, text))
        qid = f"q:{item.lang}:{item.group}"
        queries.append(Query(qid, item.lang, item.question))
        relevant[qid] = {candidate_ids[key]}
        groups[qid] = item.group
    return Benchmark("afriqa", queries, candidates, relevant, groups)
