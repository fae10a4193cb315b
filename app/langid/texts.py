"""Language-labelled text from the shared data, split by document, for training and benchmarking.

Language identification needs plain text per language, not the pairs or benchmarks that
``corpora`` loaders build, so this module reads the raw files directly and keeps only
``(lang, doc, kind, text)``. Every text belongs to a document (a news story, an article, an act
section, a QA split) and the train/test split is made per document: a held-out text never shares
its document with training text. NTREX, XQuAD and the constitutions are parallel across
languages; their split keys do not depend on the language, so translations of a held-out
document are held out in every language.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from corpora.languages import normalize_code
from corpora.ntrex import is_heldout_document, ntrex_code

# Test share of documents (by hash of the document key): 1 in _TEST_MODULO.
_TEST_MODULO = 5
# Tatoeba lines per pseudo-document (about 250 characters of short sentences).
_TATOEBA_BLOCK = 8

@dataclass(frozen=True)
class LabelledText:
    """One text of known language.

    Args:
        lang: Polylex language code (``"am"``, ``"nso"``).
        source: data set folder name (``"ntrex128-subset"``).
        doc: document key (``"story#00042"`` for a line of a story); the train/test split is
            made on the part before ``#``.
        kind: ``"sentence"``, ``"paragraph"`` or ``"question"``.
        text: the text itself.
    """

    lang: str
    source: str
    doc: str
    kind: str
    text: str

    @property
    def document(self) -> str:
        """The document without a line number: NTREX keys are ``"story#line"``."""
        return self.doc.split("#")[0]

    @property
    def split(self) -> str:
        """``"test"`` for about one document in five, else ``"train"`` (stable across runs and languages)."""
        if self.doc.startswith("split:"):
            return self.doc.split(":")[1]
        if self.source in ("ntrex-128", "ntrex128-subset"):
            # Both NTREX folders hold the same stories: one split for both, and the encoder's (corpora.ntrex).
            return "test" if is_heldout_document(self.document) else "train"
        digest = hashlib.md5(f"{self.source}/{self.document}".encode()).digest()
        return "test" if digest[0] % _TEST_MODULO == 0 else "train"


def _ntrex(folder: Path) -> Iterator[LabelledText]:
    docs = (folder / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    for path in sorted(folder.glob("newstest2019-*.txt.gz")):
        name = path.name.split(".")[1]
        lang = "en" if path.name.startswith("newstest2019-src") else ntrex_code(name)
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line_no, line in enumerate(handle):
                if line.strip():
                    yield LabelledText(lang, folder.name, f"{docs[line_no]}#{line_no:05d}", "sentence", line.strip())


def _tatoeba(folder: Path) -> Iterator[LabelledText]:
    # The English side differs per language pair and English has plenty elsewhere: read the other
    # side only. Sentences are independent; blocks of _TATOEBA_BLOCK lines make the "documents"
    # the split is made on, so that held-out paragraphs can be joined from held-out sentences.
    for path in sorted(folder.glob("tatoeba.*-eng.*")):
        tag = path.name.split(".")[1].split("-")[0]
        if path.suffix == ".eng" or tag == "eng":
            continue
        lang = normalize_code(tag)
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                doc = f"{tag}/{line_no // _TATOEBA_BLOCK}#{line_no:05d}"
                yield LabelledText(lang, folder.name, doc, "sentence", line.strip())


def _squad_like(folder: Path, path: Path, lang: str, split: str | None) -> Iterator[LabelledText]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    for article_no, article in enumerate(data):
        paragraphs = article["paragraphs"]
        if isinstance(paragraphs, dict):  # amqa/dev_data.json stores some as one dict
            paragraphs = [paragraphs]
        title = article.get("title") or f"{path.stem}-{article_no}"
        doc = f"split:{split}:{path.stem}/{title}" if split else str(title)
        for paragraph in paragraphs:
            yield LabelledText(lang, folder.name, doc, "paragraph", paragraph["context"])
            for qa in paragraph.get("qas", []):
                yield LabelledText(lang, folder.name, doc, "question", qa["question"])


def _xquad(folder: Path) -> Iterator[LabelledText]:
    for path in sorted(folder.glob("xquad.*.json")):
        # Article titles are shared by all languages, so translations fall on the same side.
        yield from _squad_like(folder, path, path.name.split(".")[1], None)


def _mlqa(folder: Path) -> Iterator[LabelledText]:
    for path in sorted(folder.glob("*.json")):
        yield from _squad_like(folder, path, path.stem, None)


def _amqa(folder: Path) -> Iterator[LabelledText]:
    for name, split in (("train_data.json", "train"), ("dev_data.json", "train"), ("test_data.json", "test")):
        yield from _squad_like(folder, folder / name, "am", split)


def _arcd(folder: Path) -> Iterator[LabelledText]:
    for name, split in (("arcd-train.json", "train"), ("arcd-test.json", "test")):
        yield from _squad_like(folder, folder / name, "ar", split)


def _afriqa(folder: Path) -> Iterator[LabelledText]:
    # Questions only: the gold passages are English/French Wikipedia. AfriQA's own test split is
    # held out; train and dev are for training.
    for path in sorted((folder / "data" / "queries").glob("*/queries.afriqa.*.json")):
        split = "test" if path.name.endswith(".test.json") else "train"
        lang = normalize_code(path.parent.name)
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                yield LabelledText(lang, folder.name, f"split:{split}:{row['id']}", "question", row["question"])


def _constitutions(folder: Path) -> Iterator[LabelledText]:
    data = json.loads((folder / "constitutions_article_aligned.json").read_text(encoding="utf-8"))
    for name, constitution in data.items():
        for lang, articles in constitution["articles"].items():
            for article_id, text in zip(constitution["article_ids"], articles):
                if text and text.strip():
                    yield LabelledText(lang, folder.name, f"{name}/{article_id}", "paragraph", text)


def _milpac(folder: Path) -> Iterator[LabelledText]:
    data = json.loads((folder / "milpac_aligned.json").read_text(encoding="utf-8"))
    for part, content in data.items():
        for item in content["items"]:
            fields = [("paragraph", item["text"])] if "text" in item else [("question", item["question"]), ("paragraph", item["answer"])]
            for kind, by_lang in fields:
                for lang, text in by_lang.items():
                    if text and text.strip():
                        yield LabelledText(lang, folder.name, f"{part}/{item['id']}", kind, text)


_READERS = {
    "ntrex-128": _ntrex,
    "ntrex128-subset": _ntrex,
    "tatoeba": _tatoeba,
    "xquad": _xquad,
    "mlqa-r-dev": _mlqa,
    "amqa": _amqa,
    "arcd": _arcd,
    "afriqa": _afriqa,
    "constitutions-multilang": _constitutions,
    "milpac": _milpac,
}
SOURCES = tuple(_READERS)
"""Data sets read, by folder name. ``xquad-r`` is left out: it is ``xquad`` split into sentences."""


def labelled_texts(data: Path, sources: tuple[str, ...] = SOURCES) -> Iterator[LabelledText]:
    """Every labelled text of the given data sets that are present under ``data`` (absent ones are skipped)."""
    unknown = set(sources) - set(_READERS)
    if unknown:
        raise ValueError(f"unknown data sets {sorted(unknown)}; valid: {sorted(_READERS)}")
    for name in sources:
        folder = data / name
        if name == "ntrex128-subset" and "ntrex-128" in sources and (data / "ntrex-128").is_dir():
            continue  # the same sentences as the complete NTREX-128: read once, split once
        if folder.is_dir():
            yield from _READERS[name](folder)


# A short query has at most this many words (and characters, for scripts written without spaces).
SHORT_MAX_WORDS = 10
_SHORT_MAX_CHARS = 80
# A paragraph has at least this many characters; longer ones are cut at a space near the cap.
_PARAGRAPH_MIN_CHARS = 150
_PARAGRAPH_MAX_CHARS = 1200


def _is_short(text: str) -> bool:
    return len(text.split()) <= SHORT_MAX_WORDS and len(text) <= _SHORT_MAX_CHARS


def _shorten(text: str, rng: random.Random) -> str:
    """A query-sized run of a sentence or paragraph: 3 to 10 words, or 8 to 30 characters without spaces."""
    words = text.split()
    if len(words) >= 3:
        size = rng.randint(3, SHORT_MAX_WORDS)
        start = rng.randint(0, max(0, len(words) - size))
        return " ".join(words[start : start + size])[:_SHORT_MAX_CHARS]
    size = rng.randint(8, 30)
    start = rng.randint(0, max(0, len(text) - size))
    return text[start : start + size]


def _cap(text: str) -> str:
    if len(text) <= _PARAGRAPH_MAX_CHARS:
        return text
    cut = text.rfind(" ", 0, _PARAGRAPH_MAX_CHARS)
    return text[: cut if cut > _PARAGRAPH_MAX_CHARS // 2 else _PARAGRAPH_MAX_CHARS]


def heldout_samples(
    texts: Iterable[LabelledText], *, length: str, per_lang: int, seed: int = 0
) -> dict[str, list[str]]:
    """Test-split texts of each language, ``per_lang`` at most, as ``{lang: [text, ...]}``.

    Args:
        texts: labelled texts, e.g. ``labelled_texts(settings.data)``; only the test split is used.
        length: ``"short"``: queries of at most 10 words (real questions first, then runs of 3-10
            words from held-out sentences and paragraphs); ``"paragraph"``: 150 to 1,200 characters (real paragraphs
            first, then consecutive held-out sentences of one document joined).
        per_lang: how many texts per language at most.
        seed: the draw is repeatable for a given seed.
    """
    if length not in ("short", "paragraph"):
        raise ValueError(f"unknown length {length!r}; valid: 'short', 'paragraph'")
    rng = random.Random(seed)
    natural: dict[str, list[str]] = defaultdict(list)
    made: dict[str, list[str]] = defaultdict(list)
    pending: dict[tuple[str, str], list[str]] = {}
    for item in texts:
        if item.split != "test":
            continue
        if length == "short":
            if item.kind == "question" and _is_short(item.text):
                natural[item.lang].append(item.text)
            elif item.kind != "question":
                made[item.lang].append(_shorten(item.text, rng))
            continue
        if item.kind == "paragraph" and len(item.text) >= _PARAGRAPH_MIN_CHARS:
            natural[item.lang].append(_cap(item.text))
            continue
        # Join consecutive sentences (or questions) of one source and document into a paragraph;
        # NTREX documents are "story#line", AfriQA questions each their own "split:test:id".
        key = (item.lang, f"{item.source}/{item.document if item.kind == 'sentence' else item.kind}")
        pending.setdefault(key, []).append(item.text)
        if sum(len(part) + 1 for part in pending[key]) >= _PARAGRAPH_MIN_CHARS:
            made[item.lang].append(_cap(" ".join(pending.pop(key))))
    samples = {}
    for lang in sorted(set(natural) | set(made)):
        pool = natural[lang][:]
        rng.shuffle(pool)
        extra = made[lang][:]
        rng.shuffle(extra)
        samples[lang] = (pool + extra)[:per_lang]
    return samples
