"""Users' JSONL files: pairs and benchmarks load; the validator names the bad line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpora import JsonlFormatError, load_benchmark, load_pairs, validate_jsonl


def _write(tmp_path: Path, lines: list, name: str = "data.jsonl") -> Path:
    """Each item is a dict (dumped as JSON) or a raw string line."""
    path = tmp_path / name
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                    encoding="utf-8")
    return path


PAIR = {"group": "g1", "lang": "fr", "query": "Qui ?", "passage": "Le peuple.", "passage_lang": "fra"}


def test_pairs_file_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, [PAIR, "", {"group": "g1", "lang": "deu", "query": "Wer?", "passage": "Das Volk."}])
    assert validate_jsonl(path) == "pairs"
    pairs = load_pairs(path)
    assert [(p.group, p.lang, p.passage_lang) for p in pairs] == [("g1", "fr", "fr"), ("g1", "de", "de")]
    assert [p.lang for p in load_pairs(str(path), langs=["de"])] == ["de"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ('{"group": "g2", "lang": "fr", "query": "x"', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({"group": "g2", "lang": "fr", "query": "x"}, "field 'passage' is missing"),
        ({**PAIR, "pasage": "x"}, "unknown field 'pasage'"),
        ({**PAIR, "query": "  "}, "field 'query' must be a non-empty string"),
        ({**PAIR, "lang": "French"}, "lang must be a language code"),
        ({"type": "candidate", "id": "c", "lang": "en", "text": "t"}, "a benchmark line in a pairs file"),
    ],
)
def test_validator_names_the_bad_line(tmp_path: Path, bad, message: str) -> None:
    path = _write(tmp_path, [PAIR, PAIR, bad])
    with pytest.raises(JsonlFormatError, match=message) as info:
        validate_jsonl(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}:3: ")


def test_benchmark_file_with_queries_and_candidates(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        {"type": "query", "id": "q1", "lang": "en", "text": "Equal before the law?", "relevant": ["de8", "fr8"], "group": "a8"},
        {"type": "query", "id": "q2", "lang": "fr", "text": "Égaux devant la loi ?", "relevant": ["de8", "fr8"], "group": "a8"},
        {"type": "candidate", "id": "de8", "lang": "de", "text": "Alle Menschen sind vor dem Gesetz gleich."},
        {"type": "candidate", "id": "fr8", "lang": "fr", "text": "Tous les êtres humains sont égaux devant la loi."},
        {"type": "candidate", "id": "de9", "lang": "de", "text": "Jede Person hat Anspruch ..."},
    ], name="swiss.jsonl")
    assert validate_jsonl(path) == "benchmark"
    bench = load_benchmark(path)
    assert bench.name == "swiss"
    assert bench.relevant == {"q1": {"de8", "fr8"}, "q2": {"de8", "fr8"}}
    assert bench.groups == {"q1": "a8", "q2": "a8"}
    only_fr = load_benchmark(path, langs=["fr"])
    assert [q.id for q in only_fr.queries] == ["q2"]
    assert only_fr.relevant["q2"] == {"fr8"}


def test_benchmark_errors(tmp_path: Path) -> None:
    query = {"type": "query", "id": "q1", "lang": "en", "text": "t", "relevant": ["c9"]}
    candidate = {"type": "candidate", "id": "c1", "lang": "en", "text": "t"}
    cases = [
        ([candidate, candidate], 2, "candidate id 'c1' is used twice"),
        ([candidate, query], 2, "relevant id 'c9' of query 'q1' is not a candidate id"),
        ([candidate, {**query, "relevant": []}], 2, "non-empty list of candidate ids"),
        ([candidate, {**query, "type": "answer"}], 2, "type must be one of query, candidate, parallel"),
        ([candidate, {"type": "parallel", "group": "g", "texts": {"en": "x"}}], 2, "not both"),
        ([{"type": "parallel", "group": "g", "texts": {}}], 1, "at least one language"),
        ([{"type": "parallel", "group": "g", "texts": {"en": "x", "eng": "y"}}], 1, "language 'en' twice"),
    ]
    for lines, line, message in cases:
        path = _write(tmp_path, lines)
        with pytest.raises(JsonlFormatError, match=message) as info:
            validate_jsonl(path)
        assert info.value.line == line, message
    empty = _write(tmp_path, [""])
    with pytest.raises(JsonlFormatError, match="no records"):
        validate_jsonl(empty)


def test_parallel_units_benchmark(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        {"type": "parallel", "group": "art-8", "texts": {"de": "Art. 8 Rechtsgleichheit", "fr": "Art. 8 Égalité"}},
        {"type": "parallel", "group": "art-9", "texts": {"de": "Art. 9 Willkür", "it": "Art. 9 Arbitrio"}},
        {"type": "parallel", "group": "faq-1", "texts": {"en": "Who can file?"}, "answers": {"en": "Anyone.", "hi": "कोई भी।"}},
    ])
    bench = load_benchmark(path)
    assert bench.relevant["q:de:art-8"] == {"c:de:art-8", "c:fr:art-8"}
    assert bench.relevant["q:en:faq-1"] == {"c:en:faq-1", "c:hi:faq-1"}
    assert {c.text for c in bench.candidates if c.id.endswith("faq-1")} == {"Anyone.", "कोई भी।"}
    assert [q.id for q in load_benchmark(path, langs=["de"], limit=1).queries] == ["q:de:art-8"]


def test_kind_mismatch(tmp_path: Path) -> None:
    pairs = _write(tmp_path, [PAIR], name="p.jsonl")
    with pytest.raises(JsonlFormatError, match="a benchmark file was expected"):
        load_benchmark(pairs)
