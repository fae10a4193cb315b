"""Users' own training pairs and benchmarks as JSON lines; the format is documented in docs/DATA_FORMAT.md.

A **pairs** file has one pair per line::

    {"group": "art-12", "lang": "fr", "query": "...", "passage": "...", "passage_lang": "de"}

A **benchmark** file has a ``type`` on every line, either explicit queries and candidates::

    {"type": "candidate", "id": "c1", "lang": "de", "text": "..."}
    {"type": "query", "id": "q1", "lang": "fr", "text": "...", "relevant": ["c1"], "group": "art-12"}

or parallel units (the same text in several languages, optionally with ``answers``)::

    {"type": "parallel", "group": "art-12", "texts": {"de": "...", "fr": "..."}}

``validate_jsonl`` checks a file and raises ``JsonlFormatError`` naming the first bad line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from corpora.errors import DataError
from corpora.languages import UnknownLanguage, normalize_code
from corpora.parallel import ParallelUnit, check_limit, first_groups_per_lang, parallel_benchmark, select_langs
from corpora.records import Benchmark, Candidate, Pair, Query

Kind = Literal["pairs", "benchmark"]

PAIR_FIELDS = {"group": True, "lang": True, "query": True, "passage": True, "passage_lang": False}
QUERY_FIELDS = {"type": True, "id": True, "lang": True, "text": True, "relevant": True, "group": False}
CANDIDATE_FIELDS = {"type": True, "id": True, "lang": True, "text": True}
PARALLEL_FIELDS = {"type": True, "group": True, "texts": True, "answers": False}
LINE_TYPES = ("query", "candidate", "parallel")

_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


class JsonlFormatError(DataError, ValueError):
    """A line of a user's JSONL file breaks the format; ``line`` is 1-based (0: the file as a whole)."""

    def __init__(self, path: str | Path, line: int, problem: str) -> None:
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {problem}")


@dataclass
class JsonlFile:
    """A validated file: its kind and its records with our language codes, in file order."""

    path: Path
    kind: Kind
    pairs: list[Pair] = field(default_factory=list)
    queries: list[tuple[Query, list[str], str]] = field(default_factory=list)  # query, relevant, group
    candidates: list[Candidate] = field(default_factory=list)
    units: list[ParallelUnit] = field(default_factory=list)

    @property
    def languages(self) -> list[str]:
        langs = {p.lang for p in self.pairs} | {p.passage_lang for p in self.pairs}
        langs |= {q.lang for q, _, _ in self.queries} | {c.lang for c in self.candidates}
        langs |= {lang for u in self.units for lang in (*u.queries, *u.candidates)}
        return sorted(langs)


def _lang(value: Any, name: str, fail) -> str:
    if not isinstance(value, str) or not _LANG_TAG.match(value):
        fail(f"{name} must be a language code such as 'en', 'fra' or 'zh-CN', got {value!r}")
    try:
        return normalize_code(value)
    except UnknownLanguage:
        return value.lower()  # a language our table lacks is still usable; it only shows as its code


def _check_fields(record: dict, spec: dict[str, bool], fail) -> None:
    unknown = sorted(set(record) - set(spec))
    if unknown:
        fail(f"unknown field {unknown[0]!r}; valid: {', '.join(spec)}")
    for name, required in spec.items():
        if required and name not in record:
            fail(f"field {name!r} is missing")
    for name in spec:
        if name in record and name not in ("relevant", "texts", "answers"):
            value = record[name]
            if not isinstance(value, str) or not value.strip():
                fail(f"field {name!r} must be a non-empty string, got {value!r}")


def _texts(value: Any, name: str, fail, *, required: bool) -> dict[str, str]:
    if not isinstance(value, dict) or (required and not value):
        fail(f"field {name!r} must be an object {{language: text}} with at least one language")
    texts: dict[str, str] = {}
    for lang, text in value.items():
        if not isinstance(text, str) or not text.strip():
            fail(f"{name}[{lang!r}] must be a non-empty string")
        code = _lang(lang, f"language {lang!r} in {name!r}", fail)
        if code in texts:
            fail(f"{name!r} has language {code!r} twice")
        texts[code] = text.strip()
    return texts


def read_jsonl(path: str | Path) -> JsonlFile:
    """Parse and validate a pairs or benchmark file.

    Raises:
        JsonlFormatError: the first bad line, e.g. ``my.jsonl:7: field 'passage' is missing``.
        FileNotFoundError: no such file.
    """
    path = Path(path)
    result: JsonlFile | None = None
    query_lines: dict[str, int] = {}
    candidate_ids: set[str] = set()
    unit_groups: set[str] = set()
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue

            def fail(problem: str, number: int = number) -> None:
                raise JsonlFormatError(path, number, problem)

            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                fail(f"not valid JSON ({exc.msg} at column {exc.colno})")
            if not isinstance(record, dict):
                fail(f"each line must be a JSON object, got {type(record).__name__}")
            kind: Kind = "benchmark" if "type" in record else "pairs"
            if result is None:
                result = JsonlFile(path, kind)
            elif kind != result.kind:
                fail(f"a {kind} line in a {result.kind} file (a file holds pairs or a benchmark, not both)")

            if kind == "pairs":
                _check_fields(record, PAIR_FIELDS, fail)
                lang = _lang(record["lang"], "lang", fail)
                passage_lang = _lang(record.get("passage_lang", record["lang"]), "passage_lang", fail)
                result.pairs.append(
                    Pair(record["group"], lang, record["query"].strip(), record["passage"].strip(), passage_lang)
                )
                continue

            line_type = record["type"]
            if line_type not in LINE_TYPES:
                fail(f"type must be one of {', '.join(LINE_TYPES)}, got {line_type!r}")
            explicit = bool(result.queries or result.candidates)
            if (line_type == "parallel" and explicit) or (line_type != "parallel" and result.units):
                fail("a benchmark file holds either query/candidate lines or parallel lines, not both")
            if line_type == "candidate":
                _check_fields(record, CANDIDATE_FIELDS, fail)
                if record["id"] in candidate_ids:
                    fail(f"candidate id {record['id']!r} is used twice")
                candidate_ids.add(record["id"])
                lang = _lang(record["lang"], "lang", fail)
                result.candidates.append(Candidate(record["id"], lang, record["text"].strip()))
            elif line_type == "query":
                _check_fields(record, QUERY_FIELDS, fail)
                relevant = record["relevant"]
                if not isinstance(relevant, list) or not relevant or not all(isinstance(r, str) for r in relevant):
                    fail(f"field 'relevant' must be a non-empty list of candidate ids, got {relevant!r}")
                if record["id"] in query_lines:
                    fail(f"query id {record['id']!r} is used twice (first on line {query_lines[record['id']]})")
                query_lines[record["id"]] = number
                lang = _lang(record["lang"], "lang", fail)
                query = Query(record["id"], lang, record["text"].strip())
                result.queries.append((query, list(relevant), record.get("group", record["id"])))
            else:
                _check_fields(record, PARALLEL_FIELDS, fail)
                if record["group"] in unit_groups:
                    fail(f"group {record['group']!r} is used twice")
                unit_groups.add(record["group"])
                texts = _texts(record["texts"], "texts", fail, required=True)
                answers = _texts(record.get("answers", {}), "answers", fail, required=False) or texts
                result.units.append(ParallelUnit(record["group"], texts, answers))

    if result is None:
        raise JsonlFormatError(path, 0, "the file holds no records")
    for query, relevant, _ in result.queries:
        missing = [r for r in relevant if r not in candidate_ids]
        if missing:
            raise JsonlFormatError(
                path, query_lines[query.id], f"relevant id {missing[0]!r} of query {query.id!r} is not a candidate id in this file"
            )
    if result.kind == "benchmark" and result.queries and not result.candidates:
        raise JsonlFormatError(path, 0, "the benchmark has queries but no candidate lines")
    return result


def validate_jsonl(path: str | Path) -> Kind:
    """Check a file; return ``"pairs"`` or ``"benchmark"``, or raise ``JsonlFormatError`` at the bad line."""
    return read_jsonl(path).kind


def load_jsonl_pairs(path: str | Path, *, langs: Iterable[str] | None = None) -> list[Pair]:
    """The pairs of a pairs file, optionally only those whose query language is in ``langs``."""
    parsed = read_jsonl(path)
    if parsed.kind != "pairs":
        raise JsonlFormatError(path, 0, "this is a benchmark file (lines have 'type'); a pairs file was expected")
    if langs is None:
        return parsed.pairs
    chosen = set(select_langs(langs, parsed.languages, str(path)))
    return [p for p in parsed.pairs if p.lang in chosen]


def load_jsonl_benchmark(
    path: str | Path, *, langs: Iterable[str] | None = None, limit: int | None = None
) -> Benchmark:
    """A benchmark file as a ``Benchmark`` named after the file.

    ``limit`` keeps the first ``limit`` query groups per language; explicit candidates are all kept
    (they are the pool), parallel units follow ``parallel_benchmark``.
    """
    parsed = read_jsonl(path)
    if parsed.kind != "benchmark":
        raise JsonlFormatError(path, 0, "this is a pairs file (lines lack 'type'); a benchmark file was expected")
    name = Path(path).stem
    if parsed.units:
        return parallel_benchmark(name, parsed.units, langs=langs, limit=limit)
    check_limit(limit)
    chosen = set(select_langs(langs, parsed.languages, name))
    candidates = [c for c in parsed.candidates if c.lang in chosen]
    kept_ids = {c.id for c in candidates}
    order: dict[str, list[str]] = {}
    for query, _, group in parsed.queries:
        if query.lang in chosen and group not in order.setdefault(query.lang, []):
            order[query.lang].append(group)
    kept = first_groups_per_lang(order, limit)
    queries, relevant, groups = [], {}, {}
    for query, rel, group in parsed.queries:
        hits = {r for r in rel if r in kept_ids}
        if query.lang in chosen and group in kept[query.lang] and hits:
            queries.append(query)
            relevant[query.id] = hits
            groups[query.id] = group
    return Benchmark(name, queries, candidates, relevant, groups)
