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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Test share of documents (by hash of the document key): 1 in _TEST_MODULO.
_TEST_MODULO = 5

# File and folder codes of the data sets -> Polylex codes (ISO 639-1 where one exists).
# NTREX names files by ISO 639-3 with a script/region suffix; the rest use 639-1 already.
_DATA_CODES = {
    "amh": "am", "arb": "ar", "bem": "bem", "ben": "bn", "deu": "de", "ell": "el", "eng": "en",
    "ewe": "ee", "fon": "fon", "fra": "fr", "fuc": "ff", "hau": "ha", "hin": "hi", "ibo": "ig",
    "ind": "id", "jpn": "ja", "khm": "km", "kin": "rw", "kir": "ky", "kmr": "ku", "kor": "ko",
    "lao": "lo", "mlg": "mg", "mya": "my", "nep": "ne", "nso": "nso", "nya": "ny", "orm": "om",
    "por": "pt", "pus": "ps", "rus": "ru", "sin": "si", "sna-Latn": "sn", "snd-Arab": "sd",
    "som": "so", "spa": "es", "ssw": "ss", "swa": "sw", "tam": "ta", "tel": "te", "tgk-Cyrl": "tg",
    "tha": "th", "tir": "ti", "tsn": "tn", "tur": "tr", "twi": "tw", "urd": "ur", "uzb": "uz",
    "ven": "ve", "vie": "vi", "wol": "wo", "xho": "xh", "yor": "yo", "zho-CN": "zh", "zul": "zu",
}


@dataclass(frozen=True)
class LabelledText:
    """One text of known language.

    Args:
        lang: Polylex language code (``"am"``, ``"nso"``).
        source: data set folder name (``"ntrex128-subset"``).
        doc: document key; the train/test split is made on it.
        kind: ``"sentence"``, ``"paragraph"`` or ``"question"``.
        text: the text itself.
    """

    lang: str
    source: str
    doc: str
    kind: str
    text: str

    @property
    def split(self) -> str:
        """``"test"`` for about one document in five, else ``"train"`` (stable across runs and languages)."""
        if self.doc.startswith("split:"):
            return self.doc.split(":")[1]
        digest = hashlib.md5(f"{self.source}/{self.doc}".encode()).digest()
        return "test" if digest[0] % _TEST_MODULO == 0 else "train"


def data_code(name: str) -> str:
    """Polylex code for a data-set language name (``"kin"`` -> ``"rw"``, ``"de"`` -> ``"de"``)."""
    return _DATA_CODES.get(name, name)


def _ntrex(folder: Path) -> Iterator[LabelledText]:
    docs = (folder / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    for path in sorted(folder.glob("newstest2019-*.txt.gz")):
        name = path.name.split(".")[1]
        lang = "en" if path.name.startswith("newstest2019-src") else data_code(name)
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line_no, line in enumerate(handle):
                if line.strip():
                    yield LabelledText(lang, folder.name, f"{docs[line_no]}#{line_no:05d}", "sentence", line.strip())


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
        lang = data_code(path.parent.name)
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
    "ntrex128-subset": _ntrex,
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
        if folder.is_dir():
            yield from _READERS[name](folder)
