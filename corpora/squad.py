"""SQuAD-format sets (XQuAD, XQuAD-R, MLQA-R, AmQA, ARCD): training pairs and LAReQA benchmarks.

A file is ``d["data"][i]["paragraphs"][j]`` with ``context`` and ``qas`` (``id``, ``question``,
``answers[0].answer_start``); the ``-r`` sets add ``sentences`` and ``sentence_breaks`` (character
spans into ``context``). AmQA's ``dev_data.json`` sometimes has a single paragraph dict instead of a
list; ``iter_paragraphs`` smooths that over.

The LAReQA construction (Roy et al. 2020, section 3.1): every sentence of every paragraph in every
language is a candidate; a question's relevant candidates are the sentences holding its answer start,
in every language that has the question (question ids are shared across languages). The published
counts (XQuAD-R 13,014 candidates; MLQA-R en 6,264 ...) are the raw number of sentence occurrences:
LAReQA does *not* de-duplicate. A few sentences repeat verbatim ("[citation needed]", "Luke.") and each
occurrence stays a candidate of its own; none of them is the answer sentence of another paragraph's
question, so relevance is unaffected.

Texts are stripped of surrounding whitespace, and the literal two characters ``\\n`` that end 135
MLQA questions are turned into a space: noise in the source files, not part of the question.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

from corpora.files import read_json
from corpora.parallel import check_limit, first_groups_per_lang, select_langs
from corpora.records import Benchmark, Candidate, Pair, Query

PassageKind = Literal["sentence", "context"]
PASSAGE_KINDS = ("sentence", "context")

# A sentence ends at . ! ? and their Arabic (؟), Devanagari (। ॥) and Ethiopic (። ፧) forms when
# whitespace follows, after Ethiopic ፡፡ (AmQA's usual full stop), or right after a CJK full stop. Good enough to pick the answer sentence
# for training; benchmarks use the sets' own sentence breaks.
_SENTENCE_END = re.compile(r"(?<=[.!?؟।॥።፧])\s+|(?<=፡፡)\s*|(?<=[。！？])")


def clean_text(text: str) -> str:
    return text.replace("\\n", " ").strip()


def iter_paragraphs(doc: dict) -> Iterator[tuple[int, int, dict]]:
    """``(article index, paragraph index, paragraph)`` for every paragraph of a SQuAD file."""
    for a, article in enumerate(doc["data"]):
        paragraphs = article["paragraphs"]
        if isinstance(paragraphs, dict):  # AmQA dev: one paragraph not wrapped in a list
            paragraphs = [paragraphs]
        for p, paragraph in enumerate(paragraphs):
            yield a, p, paragraph


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences of ``text`` (whitespace between them excluded)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans or [(0, len(text))]


def paragraph_sentences(paragraph: dict) -> list[tuple[int, int]]:
    """The paragraph's own ``sentence_breaks`` when present, else ``sentence_spans`` of its context."""
    breaks = paragraph.get("sentence_breaks")
    if breaks:
        return [(int(s), int(e)) for s, e in breaks]
    return sentence_spans(paragraph["context"])


def sentence_index(spans: Sequence[tuple[int, int]], answer_start: int) -> int:
    """Index of the span holding ``answer_start``; a start in the gap after a sentence belongs to the next."""
    for i, (_, end) in enumerate(spans):
        if answer_start < end:
            return i
    return len(spans) - 1


def _answer_start(qa: dict) -> int | None:
    answers = qa.get("answers") or []
    if not answers or answers[0].get("answer_start") is None:
        return None
    return int(answers[0]["answer_start"])


def _answered_paragraphs(files: dict[str, Path], *, sentences: bool
                         ) -> Iterator[tuple[str, str, list[tuple[int, int]], list[tuple[dict, int]]]]:
    """``(language, context, sentence spans, [(qa, answer start)])`` for every paragraph of the SQuAD
    files ``{lang: path}`` with a question that has an answer start: the walk pairs and distractors
    share. Sentence spans only when ``sentences`` (whole-context passages do not need the split)."""
    for lang, path in files.items():
        for _, _, paragraph in iter_paragraphs(read_json(path)):
            answered = [(qa, start) for qa in paragraph["qas"] if (start := _answer_start(qa)) is not None]
            if answered:
                yield lang, paragraph["context"], paragraph_sentences(paragraph) if sentences else [], answered


def squad_pairs(
    files: dict[str, Path],
    *,
    group_prefix: str,
    passage: PassageKind = "sentence",
) -> list[Pair]:
    """One monolingual pair per (question, language) of the SQuAD files ``{lang: path}``.

    ``group`` is ``{group_prefix}:{question id}``: shared by translations where the set shares ids
    across languages (XQuAD, MLQA), so X-Y pairs can be formed from one group. ``passage="sentence"``
    gives the sentence holding the answer start; ``"context"`` the whole paragraph.
    """
    if passage not in PASSAGE_KINDS:
        raise ValueError(f"passage must be one of {PASSAGE_KINDS}, got {passage!r}")
    pairs: list[Pair] = []
    by_sentence = passage == "sentence"
    for lang, context, spans, answered in _answered_paragraphs(files, sentences=by_sentence):
        for qa, answer_start in answered:
            question = clean_text(qa.get("question") or "")
            if not question:
                continue
            start, end = spans[sentence_index(spans, answer_start)] if by_sentence else (0, len(context))
            pairs.append(Pair(f"{group_prefix}:{qa['id']}", lang, question, clean_text(context[start:end]), lang))
    return pairs


def squad_distractors(files: dict[str, Path], *, group_prefix: str) -> dict[tuple[str, str], list[str]]:
    """``(group, language)`` -> the other sentences of the paragraph holding the group's answer there.

    Hard negatives for training: same topic and same language as the question, not its answer: the
    sentences that outrank a correct answer in another language on XQuAD-R. Groups are named as in
    :func:`squad_pairs`; a sentence equal to the answer sentence's text is left out.
    """
    distractors: dict[tuple[str, str], list[str]] = {}
    for lang, context, spans, answered in _answered_paragraphs(files, sentences=True):
        texts = [clean_text(context[s:e]) for s, e in spans]  # once per paragraph, for all its questions
        for qa, answer_start in answered:
            answer = texts[sentence_index(spans, answer_start)]
            distractors[(f"{group_prefix}:{qa['id']}", lang)] = [t for t in texts if t and t != answer]
    return distractors


def lareqa_benchmark(
    name: str,
    files: dict[str, Path],
    *,
    langs: Iterable[str] | None = None,
    limit: int | None = None,
) -> Benchmark:
    """The LAReQA retrieval benchmark over SQuAD files with sentence breaks (``{lang: path}``).

    Query ids are ``q:{lang}:{question id}``, candidate ids ``c:{lang}:{article}.{paragraph}.{sentence}``,
    ``groups[query id]`` is the question id. ``limit`` keeps the first ``limit`` questions of each
    language (file order) and, as candidates, every sentence of the paragraphs (in every chosen
    language) that hold a question of a kept group.
    """
    check_limit(limit)
    chosen = select_langs(langs, list(files), name)

    # First pass: questions, answer sentences and paragraphs, per language.
    question_rows: list[tuple[str, str, str, str]] = []  # (lang, question id, text, paragraph key)
    answers: dict[str, set[str]] = {}  # question id -> answer candidate ids, all languages
    paragraph_text: dict[str, list[tuple[str, str]]] = {}  # paragraph key -> [(candidate id, text)]
    paragraph_lang: dict[str, str] = {}
    groups_in_paragraph: dict[str, set[str]] = {}
    order: dict[str, list[str]] = {lang: [] for lang in chosen}
    for lang in chosen:
        for a, p, paragraph in iter_paragraphs(read_json(files[lang])):
            key = f"{lang}:{a}.{p}"
            context = paragraph["context"]
            spans = paragraph_sentences(paragraph)
            sentences = paragraph.get("sentences") or [context[s:e] for s, e in spans]
            paragraph_text[key] = [(f"c:{key}.{i}", clean_text(text)) for i, text in enumerate(sentences)]
            paragraph_lang[key] = lang
            groups_in_paragraph[key] = set()
            for qa in paragraph["qas"]:
                start = _answer_start(qa)
                if start is None:
                    continue
                qid = str(qa["id"])
                answers.setdefault(qid, set()).add(f"c:{key}.{sentence_index(spans, start)}")
                question_rows.append((lang, qid, clean_text(qa["question"]), key))
                groups_in_paragraph[key].add(qid)
                order[lang].append(qid)

    kept = first_groups_per_lang(order, limit)
    kept_any = set().union(*kept.values()) if kept else set()

    candidates = [
        Candidate(cid, paragraph_lang[key], text)
        for key, sentences in paragraph_text.items()
        if limit is None or groups_in_paragraph[key] & kept_any
        for cid, text in sentences
    ]
    queries: list[Query] = []
    relevant: dict[str, set[str]] = {}
    groups: dict[str, str] = {}
    for lang, qid, text, _ in question_rows:
        if qid not in kept[lang]:
            continue
        query_id = f"q:{lang}:{qid}"
        if query_id in relevant:
            raise ValueError(f"{name}: question id {qid!r} occurs twice in {lang}")
        queries.append(Query(query_id, lang, text))
        relevant[query_id] = answers[qid]  # shared by the question's translations: read-only
        groups[query_id] = qid
    return Benchmark(name, queries, candidates, relevant, groups)
