"""NTREX-128: 1,997 English news sentences and their line-aligned translations (the subset folder: 52
languages; the complete one: 127 files in 118 of our codes).

Files: ``newstest2019-src.eng.txt.gz`` (English) and ``newstest2019-ref.<tag>.txt.gz`` where
``<tag>`` is an ISO 639-3 code, sometimes with a script or region (``zho-CN``, ``tgk-Cyrl``, ``arb``);
``corpora.languages.get_language`` maps each tag to our code. Line k of every file translates line k
of the English source. Where several files map to one code (``fra`` and ``fra-CA``, ``zho-CN`` and
``zho-TW``, ``arb`` and ``mey``), :func:`ntrex_files` keeps one; the bitext evaluation reads every file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from corpora.files import read_text_lines, require
from corpora.languages import normalize_code
from corpora.parallel import ParallelUnit, select_langs
from corpora.records import Pair

SOURCE_FILE = "newstest2019-src.eng.txt.gz"

# Files whose text is not in the language their tag names. ``ref.nso`` ("Northern Sotho") is
# Southern Sotho (Sesotho): it writes "hore", "ho fetola", "di tshwenyehile" where Sepedi writes
# "gore", "go fetola", "di tshwenyegile", and not one of its 1,997 lines has the "š" that Sepedi
# spells with ("tša", "šoma").
_TEXT_IS_IN = {"nso": "st"}


HELDOUT_MODULO = 5
"""About one NTREX document (news story) in five is held out: never trained on, by the encoder or the
language identifier; the same documents in every language and in both NTREX folders."""


def is_heldout_document(document: str) -> bool:
    """Whether the NTREX story ``document`` (a ``DOCUMENT_IDS.tsv`` entry, e.g. ``"bbc.381790"``) is held out."""
    return hashlib.md5(f"ntrex/{document}".encode()).digest()[0] % HELDOUT_MODULO == 0


def ntrex_documents(folder: Path) -> list[str]:
    """The story of each line (``DOCUMENT_IDS.tsv``, line-aligned with every NTREX file)."""
    return read_text_lines(require(Path(folder) / "DOCUMENT_IDS.tsv", "NTREX document ids"))


def ntrex_code(tag: str) -> str:
    """Our code for the language of a file tagged ``tag`` (``"zho-CN"`` -> ``"zh"``, ``"nso"`` -> ``"st"``)."""
    return _TEXT_IS_IN.get(tag) or normalize_code(tag)


def ntrex_files(folder: Path) -> dict[str, Path]:
    """Our code -> file, English (the source) first, then the references sorted by file name.

    One file per code: a tag without a region or script where there is one (``fra`` over ``fra-CA``), else
    the first by name (``zho-CN`` over ``zho-TW``); between two plain tags the first by name too, which
    keeps the standard variety (``arb`` over Hassaniya ``mey``, ``fas`` over Dari ``prs``). The English
    references (``eng-GB``, ``eng-US``…) never replace the source.
    """
    files = {"en": require(folder / SOURCE_FILE, "NTREX English source")}
    tags = [path.name.split(".")[1] for path in sorted(folder.glob("newstest2019-ref.*.txt.gz"))]
    for tag in sorted(tags, key=lambda t: ("-" in t, t)):  # plain tags claim their code first
        files.setdefault(ntrex_code(tag), folder / f"newstest2019-ref.{tag}.txt.gz")
    return {"en": files.pop("en"), **dict(sorted(files.items(), key=lambda item: item[1].name))}


def _numbered_lines(folder: Path, langs: Iterable[str] | None, part: str) -> list[tuple[int, dict[str, str]]]:
    """(line number from 0, the line in every chosen language that has it) for the lines of ``part``."""
    if part not in ("train", "heldout", "all"):
        raise ValueError(f"part must be train, heldout or all, got {part!r}")
    files = ntrex_files(folder)
    chosen = select_langs(langs, files, "ntrex")
    lines = {lang: read_text_lines(files[lang]) for lang in chosen}
    count = len(read_text_lines(files["en"]))
    for lang, rows in lines.items():
        if len(rows) != count:
            raise ValueError(f"NTREX file {files[lang]} has {len(rows)} lines, the English source {count}")
    keep = [True] * count
    if part != "all":
        keep = [is_heldout_document(d) == (part == "heldout") for d in ntrex_documents(folder)]
    return [(k, {lang: rows[k].strip() for lang, rows in lines.items() if rows[k].strip()})
            for k in range(count) if keep[k]]


def ntrex_units(folder: Path, langs: Iterable[str] | None = None, *, part: str = "all") -> list[ParallelUnit]:
    """One bitext unit per line: group ``ntrex/<line number from 0>``, the line in every chosen language;
    ``part``: ``"train"`` (the stories not held out), ``"heldout"`` (:func:`is_heldout_document`) or ``"all"``."""
    return [ParallelUnit(f"ntrex/{k}", texts, texts) for k, texts in _numbered_lines(folder, langs, part)]


def ntrex_pairs(folder: Path, langs: Iterable[str] | None = None) -> list[Pair]:
    """Alignment pairs (sentence in X, the English sentence), grouped by line; ``langs`` picks X (not en).
    Only the training stories: the held-out ones (:func:`is_heldout_document`) are for evaluation."""
    chosen = select_langs(langs, ntrex_files(folder), "ntrex")
    units = ntrex_units(folder, sorted(set(chosen) | {"en"}), part="train")
    return [
        Pair(unit.group, lang, text, unit.queries["en"], "en")
        for unit in units
        if "en" in unit.queries
        for lang, text in unit.queries.items()
        if lang != "en" and lang in chosen
    ]


def ntrex_distractors(folder: Path, langs: Iterable[str] | None = None) -> dict[tuple[str, str], list[str]]:
    """``(group, language)`` -> the other lines of the same training story in that language: hard
    negatives on the topic of the line, in its language, that do not translate it."""
    documents = ntrex_documents(folder)
    story: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for k, texts in _numbered_lines(folder, langs, "train"):
        story.setdefault(documents[k], []).append((f"ntrex/{k}", texts))
    distractors: dict[tuple[str, str], list[str]] = {}
    for lines in story.values():
        for group, texts in lines:
            for lang, text in texts.items():
                distractors[(group, lang)] = [other[lang] for g, other in lines
                                              if g != group and other.get(lang) and other[lang] != text]
    return distractors
