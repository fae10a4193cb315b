"""Training pairs: group links across languages, AfriQA joins, AmQA's dict paragraphs, NTREX alignment."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from corpora import Pair, UnknownDataset, load_pairs
from corpora.squad import iter_paragraphs, sentence_index, sentence_spans


@pytest.fixture(scope="module")
def root(data_dir):
    return data_dir


def test_mlqa_pairs_link_translations_by_group(root, data_set) -> None:
    data_set("mlqa-r-dev")
    pairs = load_pairs("mlqa-r-dev", data_dir=root)
    assert len(pairs) == 4_199  # one per (question, language)
    assert all(p.lang == p.passage_lang for p in pairs)
    langs_by_group: dict[str, set[str]] = defaultdict(set)
    for p in pairs:
        langs_by_group[p.group].add(p.lang)
    assert len(langs_by_group) == 1_148  # every question id is also in English
    assert Counter(len(v) for v in langs_by_group.values()) == {4: 820, 3: 263, 2: 65}
    assert all("en" in v for v in langs_by_group.values())


def test_sentence_vs_context_passages(root, data_set) -> None:
    data_set("mlqa-r-dev")
    sentences = load_pairs("mlqa-r-dev", langs=["de"], data_dir=root)
    contexts = load_pairs("mlqa-r-dev", langs=["de"], passage="context", data_dir=root)
    assert [p.query for p in sentences] == [p.query for p in contexts]
    assert all(s.passage in c.passage and len(s.passage) <= len(c.passage) for s, c in zip(sentences, contexts))
    assert sum(len(s.passage) < len(c.passage) for s, c in zip(sentences, contexts)) > 400
    with pytest.raises(ValueError, match="passage must be one of"):
        load_pairs("mlqa-r-dev", passage="paragraph", data_dir=root)


def test_xquad_pairs_are_parallel_across_twelve_languages(root, data_set) -> None:
    data_set("xquad")
    pairs = load_pairs("xquad", data_dir=root)
    assert len(pairs) == 12 * 1190
    assert Counter(Counter(p.group for p in pairs).values()) == {12: 1190}
    en = next(p for p in pairs if p.lang == "en" and p.group == "xquad:56beb4343aeaaa14008c925b")
    assert "308" in en.passage
    assert en.passage.startswith("The Panthers defense")


def test_afriqa_cross_lingual_and_translation_pairs(root, data_set) -> None:
    data_set("afriqa")
    pairs = load_pairs("afriqa", langs=["ha"], data_dir=root)
    by_group: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        by_group[p.group].append(p)
    first = by_group["afriqa:hau:train:0"]
    assert {(p.lang, p.passage_lang) for p in first} == {("ha", "en"), ("en", "en")}
    assert first[0].passage == first[1].passage
    assert "2021" in first[0].passage
    assert {p.query for p in first} == {
        "A wace shekara aka fara samun mace a matsayin kataimakiyar shugaban kasar amurka?",
        "In what year did a woman first become the vice to the US president?",
    }
    assert all(len(v) == 2 for v in by_group.values())
    # fon uses French passages; wol has no gold passages at all
    fon = load_pairs("afriqa", langs=["fon"], data_dir=root)
    assert fon
    assert {p.passage_lang for p in fon} == {"fr"}
    assert {p.lang for p in fon} == {"fon", "fr"}
    assert load_pairs("afriqa", langs=["wo"], data_dir=root) == []
    assert load_pairs("afriqa", split="test", langs=["sw"], data_dir=root)
    assert load_pairs("afriqa", split="train", langs=["sw"], data_dir=root) == []


def test_amqa_dev_dict_paragraph_is_read(root, data_set) -> None:
    from corpora.files import read_json

    doc = read_json(data_set("amqa") / "dev_data.json")
    assert any(isinstance(a["paragraphs"], dict) for a in doc["data"])  # the quirk is still there
    expected = sum(len(p["qas"]) for _, _, p in iter_paragraphs(doc))
    pairs = load_pairs("amqa", split="dev", data_dir=root)
    assert len(pairs) == expected == 600
    assert {p.lang for p in pairs} == {"am"}
    assert len(load_pairs("amqa", data_dir=root)) == 1723  # default split: train


def test_arcd_and_splits(root, data_set) -> None:
    data_set("arcd")
    assert len(load_pairs("arcd", split="all", data_dir=root)) == 1395
    assert len(load_pairs("arcd", data_dir=root)) == 693
    with pytest.raises(ValueError, match="split 'dev' is not in arcd; valid: train, test, all"):
        load_pairs("arcd", split="dev", data_dir=root)


def test_ntrex_alignment_pairs(root, data_set) -> None:
    data_set("ntrex128-subset")
    pairs = load_pairs("ntrex", langs=["sw", "zho-CN"], data_dir=root)
    assert Counter(p.lang for p in pairs) == {"sw": 1704, "zh": 1704}  # the 1,997 lines less the held-out stories
    assert {p.passage_lang for p in pairs} == {"en"}
    line0 = [p for p in pairs if p.group == "ntrex/0"]
    assert len(line0) == 2
    assert line0[0].passage == "Welsh AMs worried about 'looking like muppets'"


def test_complete_ntrex_trains_every_language_once_on_the_same_stories(root, data_set) -> None:
    from corpora.ntrex import ntrex_files
    from corpora.registry import load_distractors

    folder = data_set("ntrex-128")
    files = ntrex_files(folder)
    # One file per code: the plain tag, else the first by name; the English source is never replaced
    # by one of the English references (eng-GB, eng-IN, eng-US).
    assert files["en"].name == "newstest2019-src.eng.txt.gz"
    assert {code: files[code].name.split(".")[1] for code in ("fr", "es", "pt", "ar", "fa", "zh", "sr")} == {
        "fr": "fra", "es": "spa", "pt": "por", "ar": "arb", "fa": "fas", "zh": "zho-CN", "sr": "srp-Cyrl"}
    pairs = load_pairs("ntrex-128", data_dir=root)
    per_lang = Counter(p.lang for p in pairs)
    assert len(per_lang) == 117 and set(per_lang.values()) == {1704}  # every language but English, held-out stories left out
    subset = load_pairs("ntrex", langs=["sw", "zh"], data_dir=root)
    assert {(p.group, p.lang, p.query, p.passage) for p in pairs if p.lang in ("sw", "zh")} == \
        {(p.group, p.lang, p.query, p.passage) for p in subset}  # the same lines and split as the subset
    distractors = load_distractors("ntrex-128", data_dir=root)
    assert len(distractors[("ntrex/0", "fr")]) > 5  # the other lines of the story, in French


def test_unknown_names(root) -> None:
    with pytest.raises(UnknownDataset, match="unknown data set 'squad'; valid: xquad, xquad-r"):
        load_pairs("squad", data_dir=root)
    with pytest.raises(UnknownDataset, match="benchmarks only"):
        load_pairs("constitutions", data_dir=root)


def test_missing_folder_says_where(tmp_path) -> None:
    from corpora import DataNotFound

    with pytest.raises(DataNotFound, match=str(tmp_path / "mlqa-r-dev")):
        load_pairs("mlqa-r-dev", data_dir=tmp_path)


@pytest.mark.parametrize(
    ("text", "start", "sentence"),
    [("One. Two three. Four", 6, "Two three."), ("One. Two", 4, "Two"), ("甲。乙！丙", 2, "乙！"),
     ("ቤት ነው፡፡ ሁለት ነው። ሶስት", 9, "ሁለት ነው።")],
)
def test_sentence_splitter(text: str, start: int, sentence: str) -> None:
    spans = sentence_spans(text)
    s, e = spans[sentence_index(spans, start)]
    assert text[s:e] == sentence
