"""The catalogue of data sets and the two entry points: ``load_pairs`` and ``load_benchmark``.

Names. Pair sets are named after their folder in the data directory (``mlqa-r-dev``, ``afriqa``,
``ntrex128-subset`` ...), with short aliases (``mlqa-r``, ``ntrex``). Benchmarks: ``xquad-r``,
``mlqa-r``, ``constitutions`` (= ``constitutions-ch`` + ``constitutions-no``), ``milpac`` (= ``milpac-ip``
+ ``milpac-cci``), ``milpac-acts``, ``ntrex``, ``afriqa``. Both functions also take the path of a
user's ``.jsonl`` file (docs/DATA_FORMAT.md).

Splits. ``split=None`` means the set's training split: ``train`` for AfriQA, AmQA and ARCD, the
only split for the others (MLQA-R is MLQA's ``dev``; XQuAD, NTREX and MILPaC have one split
``all``). Never train on ``xquad``/``xquad-r`` when evaluating on XQuAD-R: same questions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from corpora.afriqa import afriqa_benchmark, afriqa_pairs, folder_languages
from corpora.errors import DataError
from corpora.files import DataNotFound, data_root, require
from corpora.jsonl import load_jsonl_benchmark, load_jsonl_pairs
from corpora.languages import normalize_code
from corpora.legal import constitution_units, milpac_act_units, milpac_pairs, milpac_qa_units
from corpora.ntrex import ntrex_distractors, ntrex_files, ntrex_pairs, ntrex_units
from corpora.parallel import parallel_benchmark, select_langs
from corpora.records import Benchmark, Pair
from corpora.settings import Settings
from corpora.squad import PASSAGE_KINDS, PassageKind, lareqa_benchmark, squad_distractors, squad_pairs


class UnknownDataset(DataError, ValueError):
    """A data set or benchmark name that is neither known nor a ``.jsonl`` path."""


@dataclass(frozen=True)
class DataSet:
    """One folder of the data directory: where it comes from, its licence, what it provides."""

    name: str
    title: str
    source: str
    licence: str
    splits: tuple[str, ...]  # splits of its training pairs; () when it gives no pairs
    benchmarks: tuple[str, ...]

    @property
    def default_split(self) -> str | None:
        return ("train" if "train" in self.splits else self.splits[0]) if self.splits else None


DATA_SETS: dict[str, DataSet] = {
    d.name: d
    for d in [
        DataSet("xquad", "XQuAD (SQuAD v1.1 dev in 12 languages)", "https://github.com/google-deepmind/xquad",
                "CC BY-SA 4.0", ("all",), ()),
        DataSet("xquad-r", "XQuAD-R (LAReQA): XQuAD with sentence breaks",
                "https://github.com/google-research-datasets/lareqa", "CC BY-SA 4.0", ("all",), ("xquad-r",)),
        DataSet("mlqa-r-dev", "MLQA-R dev (LAReQA): MLQA dev with sentence breaks",
                "https://github.com/google-research-datasets/lareqa (commit 354d67d, since removed)",
                "CC BY-SA 3.0 (MLQA data); the copied licence file says CC BY-NC 4.0", ("dev",), ("mlqa-r",)),
        DataSet("afriqa", "AfriQA: African-language questions, en/fr Wikipedia passages",
                "https://github.com/masakhane-io/afriqa", "CC BY 4.0", ("train", "dev", "test"), ("afriqa",)),
        DataSet("amqa", "AmQA: Amharic SQuAD-style QA", "https://github.com/semantic-systems/amharic-qa",
                "MIT", ("train", "dev", "test"), ()),
        DataSet("arcd", "ARCD: Arabic SQuAD-style QA", "https://github.com/husseinmozannar/SOQAL", "MIT",
                ("train", "test", "all"), ()),
        DataSet("constitutions-multilang", "Swiss (de/en/fr/it) and Norwegian (en/nb/nn) constitutions, article-aligned",
                "https://github.com/PicoCreator/constitution-multi-lang (Fedlex, Lovdata)",
                "official texts, not copyright-protected (repo card: Apache-2.0)", (),
                ("constitutions", "constitutions-ch", "constitutions-no")),
        DataSet("milpac", "MILPaC: Indian legal QA and act sections, English + 9 Indian languages",
                "https://github.com/Law-AI/MILPaC", "CC BY-NC-SA 4.0", ("all",),
                ("milpac", "milpac-ip", "milpac-cci", "milpac-acts")),
        DataSet("ntrex128-subset", "NTREX-128: news sentences line-aligned in 53 languages",
                "https://github.com/MicrosoftTranslator/NTREX", "CC BY-SA 4.0", ("all",), ("ntrex",)),
        DataSet("ntrex-128", "NTREX-128 (complete): the same news sentences in 128 languages",
                "https://github.com/MicrosoftTranslator/NTREX", "CC BY-SA 4.0", ("all",), ()),
        DataSet("tatoeba", "Tatoeba test set (LASER): up to 1,000 sentences + English, 112 languages",
                "https://github.com/facebookresearch/LASER/tree/main/data/tatoeba/v1", "CC BY 2.0 FR", (), ()),
    ]
}

ALIASES = {"mlqa-r": "mlqa-r-dev", "mlqa": "mlqa-r-dev", "ntrex": "ntrex128-subset",
           "constitutions": "constitutions-multilang"}


def _is_jsonl(name: str | Path) -> bool:
    return str(name).endswith(".jsonl")


def data_set(name: str) -> DataSet:
    """The catalogue entry for a folder name or alias; raises ``UnknownDataset``."""
    folder = ALIASES.get(name, name)
    if folder not in DATA_SETS:
        raise UnknownDataset(f"unknown data set {name!r}; valid: {', '.join(DATA_SETS)} or a .jsonl file")
    return DATA_SETS[folder]


def _folder(entry: DataSet, data_dir: str | Path | None) -> Path:
    return require(data_root(data_dir) / entry.name, f"data set {entry.name!r}")


# SQuAD-format sets (corpora.squad), and the prefix of their group ids where it is not the folder name.
_SQUAD_SETS = ("xquad", "xquad-r", "mlqa-r-dev", "amqa", "arcd")
_NTREX_SETS = ("ntrex128-subset", "ntrex-128")  # the same stories and split; the complete set has 65 more languages
_GROUP_PREFIX = {"xquad-r": "xquad", "mlqa-r-dev": "mlqa"}


def _squad_files(entry: DataSet, folder: Path, split: str) -> dict[str, Path]:
    if entry.name == "xquad":
        return {normalize_code(p.name.split(".")[1]): p for p in sorted(folder.glob("xquad.*.json"))}
    if entry.name in ("xquad-r", "mlqa-r-dev"):
        return {normalize_code(p.stem): p for p in sorted(folder.glob("*.json"))}
    if entry.name == "amqa":
        return {"am": require(folder / f"{split}_data.json", "AmQA split file")}
    if entry.name == "arcd":
        return {"ar": require(folder / ("arcd.json" if split == "all" else f"arcd-{split}.json"), "ARCD split file")}
    raise AssertionError(entry.name)


def load_pairs(
    name: str | Path,
    *,
    split: str | None = None,
    langs: Iterable[str] | None = None,
    passage: PassageKind = "sentence",
    data_dir: str | Path | None = None,
    settings: Settings | None = None,
) -> list[Pair]:
    """Training pairs of a data set (or a pairs ``.jsonl`` file).

    Args:
        name: a folder name or alias (``mlqa-r-dev``, ``afriqa``, ``xquad``, ``amqa``, ``arcd``,
            ``milpac``, ``ntrex``) or a path ending in ``.jsonl``.
        split: see the module docstring; ``None`` is the training split.
        langs: query languages to keep (our codes or ISO 639-3); for AfriQA the African-language
            subsets, each bringing its en/fr translation pairs along. ``None``: all.
        passage: ``"sentence"`` (the sentence holding the answer; the default recipe) or
            ``"context"`` (the whole paragraph). Ignored by sets without paragraphs (NTREX, MILPaC).
        data_dir: data folder; default ``settings.data`` (``settings`` default ``get_settings()``).
        settings: the settings object, for callers that hold one (its ``data`` field is used).

    Returns:
        ``Pair(group, lang, query, passage, passage_lang)`` records; ``group`` joins translations of
        one question across languages, so an X-Y pair takes a query of one language and the passage
        of another language from the same group.

    Example::

        >>> pairs = load_pairs("mlqa-r-dev", langs=["en", "de"])
        >>> len(pairs), pairs[0].group
        (1660, 'mlqa:...')
    """
    if passage not in PASSAGE_KINDS:
        raise ValueError(f"passage must be one of {PASSAGE_KINDS}, got {passage!r}")
    data_dir = data_dir if data_dir is not None or settings is None else settings.data
    if _is_jsonl(name):
        return load_jsonl_pairs(name, langs=langs)
    entry = data_set(str(name))
    if not entry.splits:
        raise UnknownDataset(f"{entry.name!r} provides benchmarks only ({', '.join(entry.benchmarks)}), no training pairs")
    split = split or entry.default_split
    if split not in entry.splits:
        raise ValueError(f"split {split!r} is not in {entry.name}; valid: {', '.join(entry.splits)}")
    folder = _folder(entry, data_dir)
    if entry.name == "afriqa":
        return afriqa_pairs(folder, split=split, langs=langs, passage=passage)
    if entry.name == "milpac":
        pairs = milpac_pairs(folder)
        chosen = set(select_langs(langs, sorted({p.lang for p in pairs}), "milpac"))
        return [p for p in pairs if p.lang in chosen]
    if entry.name in _NTREX_SETS:
        return ntrex_pairs(folder, langs)
    files = _squad_files(entry, folder, split)
    files = {lang: files[lang] for lang in select_langs(langs, files, entry.name)}
    return squad_pairs(files, group_prefix=_GROUP_PREFIX.get(entry.name, entry.name), passage=passage)


# Sets whose pairs come with same-topic, same-language distractors (paragraphs or stories around them).
DISTRACTOR_SETS = (*_SQUAD_SETS, *_NTREX_SETS)


class NoDistractors(DataError, ValueError):
    """Hard negatives asked of a set that has no paragraphs or stories to take them from."""


def load_distractors(
    name: str | Path,
    *,
    split: str | None = None,
    data_dir: str | Path | None = None,
) -> dict[tuple[str, str], list[str]]:
    """Hard-negative candidates for the training pairs of a set (as ``load_pairs`` names them).

    Returns ``(group, language) -> texts``: for SQuAD-style sets the other sentences of the paragraph
    that holds the group's answer in that language; for NTREX the other lines of the same story.

    Raises:
        NoDistractors: the set (or a ``.jsonl`` file) has no such context.
    """
    entry = None if _is_jsonl(name) else data_set(str(name))
    if entry is None or entry.name not in DISTRACTOR_SETS:
        raise NoDistractors(f"{name} has no paragraphs or stories to draw hard negatives from; "
                            f"sets that do: {', '.join(DISTRACTOR_SETS)}")
    folder = _folder(entry, data_dir)
    if entry.name in _NTREX_SETS:
        return ntrex_distractors(folder)
    files = _squad_files(entry, folder, split or entry.default_split or "all")
    return squad_distractors(files, group_prefix=_GROUP_PREFIX.get(entry.name, entry.name))


BenchmarkBuilder = Callable[[Path, "Iterable[str] | None", "int | None"], Benchmark]


def _constitutions(name: str, which: tuple[str, ...]) -> BenchmarkBuilder:
    return lambda folder, langs, limit: parallel_benchmark(
        name, constitution_units(folder, which), langs=langs, limit=limit)


def _milpac(name: str, which: tuple[str, ...]) -> BenchmarkBuilder:
    return lambda folder, langs, limit: parallel_benchmark(name, milpac_qa_units(folder, which), langs=langs, limit=limit)


def _lareqa(name: str, entry: str) -> BenchmarkBuilder:
    return lambda folder, langs, limit: lareqa_benchmark(
        name, _squad_files(DATA_SETS[entry], folder, "all"), langs=langs, limit=limit)


# benchmark name -> (data set folder, builder(folder, langs, limit))
BENCHMARKS: dict[str, tuple[str, BenchmarkBuilder]] = {
    "xquad-r": ("xquad-r", _lareqa("xquad-r", "xquad-r")),
    "mlqa-r": ("mlqa-r-dev", _lareqa("mlqa-r", "mlqa-r-dev")),
    "constitutions": ("constitutions-multilang", _constitutions("constitutions", ("ch", "no"))),
    "constitutions-ch": ("constitutions-multilang", _constitutions("constitutions-ch", ("ch",))),
    "constitutions-no": ("constitutions-multilang", _constitutions("constitutions-no", ("no",))),
    "milpac": ("milpac", _milpac("milpac", ("ip", "cci"))),
    "milpac-ip": ("milpac", _milpac("milpac-ip", ("ip",))),
    "milpac-cci": ("milpac", _milpac("milpac-cci", ("cci",))),
    "milpac-acts": ("milpac", lambda folder, langs, limit: parallel_benchmark(
        "milpac-acts", milpac_act_units(folder), langs=langs, limit=limit)),
    "ntrex": ("ntrex128-subset", lambda folder, langs, limit: parallel_benchmark(
        "ntrex", ntrex_units(folder, langs, part="heldout"), langs=langs, limit=limit)),
    "afriqa": ("afriqa", lambda folder, langs, limit: afriqa_benchmark(folder, split="test", langs=langs, limit=limit)),
}
BENCHMARK_ALIASES = {"mlqa-r-dev": "mlqa-r", "ntrex128-subset": "ntrex"}


def load_benchmark(
    name: str | Path,
    *,
    langs: Iterable[str] | None = None,
    limit: int | None = None,
    data_dir: str | Path | None = None,
    settings: Settings | None = None,
) -> Benchmark:
    """A retrieval benchmark by name (see the module docstring) or from a benchmark ``.jsonl`` file.

    Args:
        langs: languages to keep, for queries and candidates alike. ``None``: all.
        limit: at most this many queries per language: those of the first ``limit`` question groups
            (file order). The candidate pool shrinks with it but keeps every candidate relevant to a
            kept query (for XQuAD-R/MLQA-R: all sentences of the paragraphs of the kept questions).
        data_dir: data folder; default ``settings.data`` (``settings`` default ``get_settings()``).
        settings: the settings object, for callers that hold one (its ``data`` field is used).

    Returns:
        ``Benchmark`` with unique query ids (``q:{lang}:...``) and candidate ids (``c:{lang}:...``),
        ``relevant[query id]`` across languages and ``groups[query id]`` shared by translations.

    Example::

        >>> bench = load_benchmark("xquad-r", langs=["en", "de"], limit=10)
        >>> len(bench.queries), len(bench.relevant["q:en:56beb4343aeaaa14008c925b"])
        (20, 2)
    """
    data_dir = data_dir if data_dir is not None or settings is None else settings.data
    if _is_jsonl(name):
        return load_jsonl_benchmark(name, langs=langs, limit=limit)
    key = BENCHMARK_ALIASES.get(str(name), str(name))
    if key not in BENCHMARKS:
        raise UnknownDataset(f"unknown benchmark {name!r}; valid: {', '.join(BENCHMARKS)} or a .jsonl file")
    folder_name, build = BENCHMARKS[key]
    return build(_folder(DATA_SETS[folder_name], data_dir), langs, limit)


def available(data_dir: str | Path | None = None) -> tuple[list[DataSet], list[DataSet]]:
    """``(found, missing)`` data sets in the data folder."""
    root = data_root(data_dir)
    found = [d for d in DATA_SETS.values() if (root / d.name).is_dir()]
    return found, [d for d in DATA_SETS.values() if d not in found]


def set_languages(name: str, data_dir: str | Path | None = None) -> list[str]:
    """Languages of a data set (our codes), read from its files."""
    entry = data_set(name)
    folder = _folder(entry, data_dir)
    if entry.name == "afriqa":
        return sorted(set(folder_languages(folder)) | {"en", "fr"})
    if entry.name in _NTREX_SETS:
        return sorted(ntrex_files(folder))
    if entry.name == "tatoeba":  # tatoeba.<iso3>-eng.<iso3>: the language, and English
        return sorted({normalize_code(path.name.split(".")[1].split("-")[0]) for path in folder.glob("tatoeba.*-eng.*")})
    if entry.name in _SQUAD_SETS:
        return sorted(_squad_files(entry, folder, entry.default_split or "all"))
    return load_benchmark(entry.benchmarks[0], data_dir=data_dir).languages


__all__ = [
    "BENCHMARKS", "DATA_SETS", "DISTRACTOR_SETS", "DataNotFound", "DataSet", "NoDistractors", "UnknownDataset",
    "available", "data_set", "load_benchmark", "load_distractors", "load_pairs", "set_languages",
]
