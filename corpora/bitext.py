"""Bitext-retrieval sets: sentences in a language and their English translations, line by line.

``tatoeba`` (LASER's Tatoeba test set, 112 languages, up to 1,000 sentences each; an evaluation set
only) and ``ntrex`` (NTREX-128's held-out stories, :func:`corpora.ntrex.is_heldout_document`: 293
sentences in each of its 128 languages and variants, English excepted, never trained on). The score is the standard one: for each
sentence, is its translation the nearest of all the other side's sentences (both directions).

Example::

    >>> [(b.tag, b.lang, len(b.source)) for b in load_bitexts("ntrex", langs=["sw", "zh"])]
    [('swa', 'sw', 293), ('zho-CN', 'zh', 293), ('zho-TW', 'zh', 293)]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from corpora.errors import DataError
from corpora.files import data_root, read_text_lines, require
from corpora.languages import normalize_code
from corpora.ntrex import SOURCE_FILE, is_heldout_document, ntrex_code, ntrex_documents
from corpora.parallel import select_langs

BITEXT_SETS = ("tatoeba", "ntrex")


@dataclass(frozen=True)
class Bitext:
    """Line ``i`` of ``source`` (in ``lang``) translates line ``i`` of ``english``. ``tag`` is the file's
    own name for the language, which tells variants of one code apart (``zho-TW`` and ``zho-CN`` are
    both ``zh``; Tatoeba's ``arz`` and ``arq`` both ``ar``)."""

    name: str
    tag: str
    lang: str
    source: tuple[str, ...]
    english: tuple[str, ...]


def load_bitexts(name: str, *, langs: Iterable[str] | None = None, limit: int | None = None,
                 data_dir: str | Path | None = None) -> list[Bitext]:
    """The bitexts of set ``name`` (:data:`BITEXT_SETS`), one per file (sorted by code, then tag), at
    most ``limit`` line pairs each (the first ones); ``langs`` picks by our codes. Empty lines on either
    side drop the pair."""
    if name not in BITEXT_SETS:
        raise DataError(f"unknown bitext set {name!r}; valid: {', '.join(BITEXT_SETS)}")
    root = Path(data_dir) if data_dir is not None else Path(data_root())
    files = _tatoeba_files(root / "tatoeba") if name == "tatoeba" else _ntrex_files(root / "ntrex-128")
    chosen = set(select_langs(langs, [lang for lang, _ in files], name))
    held = [is_heldout_document(d) for d in ntrex_documents(root / "ntrex-128")] if name == "ntrex" else None
    out = []
    for (lang, tag), (path, english_path) in sorted(files.items()):
        if lang not in chosen:
            continue
        source, english = read_text_lines(path), read_text_lines(english_path)
        if len(source) != len(english) or (held is not None and len(held) != len(english)):
            raise DataError(f"{path} has {len(source)} lines, its English side {len(english)}")
        rows = [(a.strip(), b.strip()) for i, (a, b) in enumerate(zip(source, english))
                if a.strip() and b.strip() and (held is None or held[i])][:limit]
        out.append(Bitext(name=name, tag=tag, lang=lang, source=tuple(a for a, _ in rows),
                          english=tuple(b for _, b in rows)))
    return out


def _tatoeba_files(folder: Path) -> dict[tuple[str, str], tuple[Path, Path]]:
    require(folder, "Tatoeba folder")
    return {(normalize_code(tag), tag): (path, path.with_suffix(".eng"))
            for path in sorted(folder.glob("tatoeba.*-eng.*"))
            if path.suffix != ".eng" and (tag := path.name.split(".")[1].split("-")[0])}


def _ntrex_files(folder: Path) -> dict[tuple[str, str], tuple[Path, Path]]:
    english = require(folder / SOURCE_FILE, "NTREX English source")
    return {(lang, tag): (path, english) for path in sorted(folder.glob("newstest2019-ref.*.txt.gz"))
            if (lang := ntrex_code(tag := path.name.split(".")[1])) != "en"}
