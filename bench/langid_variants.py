"""Recipe variants of the language-ID classifier, measured on a tuning draw (not the benchmark's).

Trains the n-gram classifier with other n-gram orders and vocabulary sizes, and replays the
default detector's decisions (``app.langid.detector._decide``) with other bars for telling close
relatives apart on short text, on held-out text drawn with ``--seed 1`` (``bench/langid.py``
reports on seed 0, so the choice is not made on the figures it is reported with), and with other bars
for any short text's pick (``--posteriors-short``). The third-party
detectors' answers and the script rules are computed once per text and reused for every variant.

``--leave-out`` measures what the refused classes cannot show about themselves: how a language
in *no* list fares. For each group of refused languages it trains the recipe without them (their
text and their classes) and scores the gettext catalogs of the group's languages, which are then
as unknown to the model as any language nobody has text of.

``--alphabets off,1e-6,1e-5`` replays the short-text alphabet rule without alphabets and with alphabets of
letters at least that common in a language's training text (``ngram.ALPHABET_MIN_SHARE``), besides its
orthography's; the leave-out runs use the first.

Usage: python bench/langid_variants.py [--seed 1] [--variants 100000:4,300000:5] [--relatives-short 0.99999,0.9999999]
       [--posteriors-short 0.5,0.8,0.9] [--refused-short 0.999,0.9999999] [--alphabets off,1e-5]
       [--leave-out an,crh,fur,li;lg,mai,nso,wa]
Writes bench/results/langid_variants.json and prints a Markdown table. About 3 minutes per variant on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from app.langid import SERVED, UND, backends, catalogs, detector, ngram, orthographies
from app.langid.build import classifier_labels, training_texts
from app.langid.scripts import REJECT_LANGUAGES, language_of
from app.langid.shipped import load_shipped
from app.langid.texts import heldout_samples, labelled_texts
from corpora.settings import get_settings

LENGTHS = ("short", "paragraph")


def _draw(texts: list, seed: int, locale_dir: Path) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """``{(set, length): [(lang, text), ...]}``: served and unserved held-out text, gettext catalogs."""
    import langid as bench  # bench/langid.py: the same draws and catalog cleaning

    sets = {}
    for length in LENGTHS:
        served = heldout_samples(texts, length=length, per_lang=100, seed=seed)
        sets[("served", length)] = [(lang, text) for lang, items in served.items() if lang in SERVED for text in items]
        unserved = bench._unserved_data(texts, 100, seed)[length]
        sets[("unserved_data", length)] = [(lang, text) for lang, items in unserved.items() for text in items]
    if locale_dir.is_dir():
        learnt = catalogs.learnt_catalogs(get_settings().cache)
        drawn = bench.catalog_samples(catalogs.unlearnt_texts(locale_dir, learnt), 50, seed)
        for length in LENGTHS:
            sets[("gettext", length)] = [
                (catalogs.locale_language(locale) or locale, text) for locale, items in drawn[length].items() for text in items
            ]
    return sets


class _Prepared:
    """Per text: the script's answer, or the within-script text, its candidates and both detectors' answers."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.truth = [lang for lang, _ in items]
        self.fixed: dict[int, str] = {}
        self.todo: list[int] = []
        self.texts: list[str] = []
        self.candidates: list[tuple[str, ...]] = []
        for i, (_, text) in enumerate(items):
            narrowed = detector.narrow(text)  # the detector's own step 1; the variants differ after it
            if narrowed.answer is None:
                self.todo.append(i)
                self.texts.append(narrowed.text)
                self.candidates.append(narrowed.candidates)
            else:
                self.fixed[i] = narrowed.answer.lang
        self.cld3 = backends.get_backend("cld3").predict(self.texts)
        self.fasttext = backends.get_backend("fasttext").predict(self.texts)


class _Fixed:
    """A detector that gives recorded answers (``_decide`` asks each backend once per batch)."""

    def __init__(self, real, answers: list[tuple[str, float]]) -> None:
        self.languages, self._answers = real.languages, answers

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        return self._answers


def _answers(
    model: ngram.NgramModel, prepared: _Prepared, relatives_short: float, posterior_short: float, refused_short: float,
    foreign_share: float = detector._FOREIGN_SHARE,
) -> list[str]:
    answers = [prepared.fixed.get(i, UND) for i in range(len(prepared.truth))]
    if not prepared.todo:
        return answers
    fixed = {"cld3": _Fixed(backends.get_backend("cld3"), prepared.cld3),
             "fasttext": _Fixed(backends.get_backend("fasttext"), prepared.fasttext)}
    with (
        mock.patch.object(detector, "_MIN_POSTERIOR_RELATIVES_SHORT", relatives_short),
        mock.patch.object(detector, "_MIN_POSTERIOR_SHORT", posterior_short),
        mock.patch.object(detector, "_MIN_POSTERIOR_OVER_REFUSED_SHORT", refused_short),
        mock.patch.object(detector, "_FOREIGN_SHARE", foreign_share),
        mock.patch.object(detector.backends, "get_backend", fixed.__getitem__),
    ):
        decided = detector._decide(model, prepared.texts, prepared.candidates)
    for i, answer in zip(prepared.todo, decided):
        answers[i] = answer.lang
    return answers


def _share(value: str) -> float:
    return 2.0 if value == "off" else float(value)  # "off": a share no text reaches


def _scores(sets: dict, answers: dict) -> dict[str, float]:
    """The headline figures of bench/langid.py for one variant, by its own scoring functions."""
    import langid as bench  # bench/langid.py

    out = {}
    for (kind, length), prepared in sets.items():
        found = answers[(kind, length)]
        if kind == "served":
            served = bench._served_scores(
                prepared.truth, found, SERVED, bench.GOALS[length], answered_as=detector.ANSWERED_AS
            )
            out[f"accuracy_{length}"] = served["accuracy_claimed"]
            out[f"low_resource_wrong_{length}"] = served["low_resource_wrong_share"]
        else:
            out[f"{kind}_und_or_right_{length}"] = bench._unserved_scores(prepared.truth, found)["not_wrong"]
    return out


def _left_out(
    training: list, sets: dict, group: set[str], args: argparse.Namespace, habits: frozenset[str], letters: dict
) -> list[dict]:
    """The first variant trained without the refused languages of ``group``, scored as usual and on
    the gettext text of ``group`` (then languages in no list) apart: a row per ``--alphabet-paragraph``."""
    import langid as bench  # bench/langid.py

    unknown = group - set(REJECT_LANGUAGES)
    if unknown:
        raise SystemExit(f"--leave-out: {sorted(unknown)} are not refused languages (scripts.REJECT_LANGUAGES)")
    vocabulary, max_n = (int(part) for part in args.variants.split(",")[0].split(":"))
    labels = [label for label in classifier_labels() if language_of(label) not in group]
    kept = [item for item in training if language_of(item.lang) not in group]
    with mock.patch.object(ngram, "VOCABULARY_SIZE", vocabulary), mock.patch.object(ngram, "MAX_N", max_n):
        model = ngram.train_model(kept, labels, secondary_sources=(catalogs.SOURCE,), orthographies=letters)
    share = args.alphabets.split(",")[0]
    if share == "off" or float(share) != ngram.ALPHABET_MIN_SHARE:  # train_model drew them at the default share
        model.alphabets = {} if share == "off" else ngram.alphabets(kept, labels, min_share=float(share), orthographies=letters)
    model.habits = habits
    bar, least = float(args.relatives_short.split(",")[0]), float(args.posteriors_short.split(",")[0])
    refused = float(args.refused_short.split(",")[0])
    rows = []
    for paragraph in (_share(value) for value in args.alphabet_paragraph.split(",")):
        answers = {key: _answers(model, prepared, bar, least, refused, paragraph) for key, prepared in sets.items()}
        row = {"vocabulary_size": vocabulary, "max_n": max_n, "foreign_share_paragraph": paragraph,
               "alphabet_min_share": None if share == "off" else float(share), "relatives_short": bar,
               "posterior_short": least, "refused_short": refused, "left_out": sorted(group), **_scores(sets, answers)}
        for length in LENGTHS:
            prepared, found = sets.get(("gettext", length)), answers.get(("gettext", length))
            if prepared is None:
                continue
            mine = [(truth, answer) for truth, answer in zip(prepared.truth, found) if truth in group]
            scores = bench._unserved_scores([truth for truth, _ in mine], [answer for _, answer in mine])
            row[f"gettext_left_out_und_or_right_{length}"] = scores["not_wrong"]
            row[f"gettext_left_out_{length}_per_language"] = scores["per_language"]
        rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="the tuning draw (bench/langid.py reports on seed 0)")
    parser.add_argument("--variants", default="100000:4,300000:4,300000:5,500000:5",
                        help="comma-separated vocabulary_size:max_n")
    parser.add_argument("--relatives-short", default="0.99999,0.9999999",
                        help="bars for a short text's pick over a close relative")
    parser.add_argument("--posteriors-short", default=str(detector._MIN_POSTERIOR_SHORT),
                        help="bars for a short text's pick over any other language")
    parser.add_argument("--refused-short", default=str(detector._MIN_POSTERIOR_OVER_REFUSED_SHORT),
                        help="bars for a short text's pick over a refused language")
    parser.add_argument("--alphabets", default=str(ngram.ALPHABET_MIN_SHARE),
                        help="alphabet shares (ngram.ALPHABET_MIN_SHARE) to try for every variant; 'off': no alphabet rule")
    parser.add_argument("--alphabet-paragraph", default=str(detector._FOREIGN_SHARE),
                        help="shares of letters outside the pick's alphabet that make a longer text und; 'off': never")
    parser.add_argument("--locale-dir", type=Path, default=Path("/usr/share/locale"))
    parser.add_argument("--leave-out", default="",
                        help="';'-separated groups of refused languages, each trained without in turn (with the first "
                             "variant, bars and --alphabets, and every --alphabet-paragraph)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "langid_variants.json")
    args = parser.parse_args()
    load = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    data = get_settings().data
    texts = list(labelled_texts(data))
    if not texts:
        parser.error(f"no data sets under {data} (set POLYLEX_DATA)")
    if not args.variants:
        parser.error("--variants needs at least one vocabulary_size:max_n (the leave-out runs use the first)")
    try:
        training = training_texts(data, cache=get_settings().cache)
        sets = {key: _Prepared(items) for key, items in _draw(texts, args.seed, args.locale_dir).items()}
    except catalogs.CatalogError as exc:
        parser.error(str(exc))
    shipped = load_shipped()
    rows = []
    alphabet_tables: dict[str, dict[str, frozenset[str]]] = {}
    letters = orthographies.orthography_letters(classifier_labels())
    for variant in args.variants.split(","):
        vocabulary, max_n = (int(part) for part in variant.split(":"))
        clock = time.perf_counter()
        with mock.patch.object(ngram, "VOCABULARY_SIZE", vocabulary), mock.patch.object(ngram, "MAX_N", max_n):
            model = ngram.train_model(training, classifier_labels(), secondary_sources=(catalogs.SOURCE,), orthographies=letters)
        # The detectors' habits are theirs, not the recipe's: the shipped ones, instead of asking CLD3 and
        # fastText about all held-back text again for every variant.
        model.habits = shipped.habits
        trained = model.alphabets
        with tempfile.TemporaryDirectory() as folder:
            model.save(Path(folder) / "model.npz")
            size = (Path(folder) / "model.npz").stat().st_size
        for share, paragraph, bar, least, refused in itertools.product(
            args.alphabets.split(","),
            [_share(value) for value in args.alphabet_paragraph.split(",")],
            [float(value) for value in args.relatives_short.split(",")],
            [float(value) for value in args.posteriors_short.split(",")],
            [float(value) for value in args.refused_short.split(",")],
        ):
            if share != "off" and float(share) == ngram.ALPHABET_MIN_SHARE:
                alphabet_tables[share] = trained  # what train_model drew: not read again
            if share not in alphabet_tables:
                alphabet_tables[share] = {} if share == "off" else ngram.alphabets(
                    training, model.classes.tolist(), min_share=float(share), orthographies=letters
                )
            model.alphabets = alphabet_tables[share]
            answers = {key: _answers(model, prepared, bar, least, refused, paragraph) for key, prepared in sets.items()}
            rows.append({"vocabulary_size": vocabulary, "max_n": max_n, "foreign_share_paragraph": paragraph,
                         "alphabet_min_share": None if share == "off" else float(share), "relatives_short": bar,
                         "posterior_short": least, "refused_short": refused, "bytes": size, **_scores(sets, answers)})
            print(json.dumps(rows[-1]), file=sys.stderr)
        print(f"{variant}: {time.perf_counter() - clock:.0f} s", file=sys.stderr)
    for group in filter(None, args.leave_out.split(";")):
        for row in _left_out(training, sets, set(group.split(",")), args, shipped.habits, letters):
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    report = {
        "what": "language-ID recipe variants on a tuning draw of held-out text; see bench/langid_variants.py",
        "date": datetime.date.today().isoformat(),
        "command": "python bench/langid_variants.py " + " ".join(sys.argv[1:]),
        "machine": {"python": platform.python_version(), "cores": os.cpu_count(), "load_average_at_start": load},
        "seed": args.seed, "seconds": round(time.perf_counter() - started, 1), "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    rows = [row for row in rows if "left_out" not in row]  # the leave-out rows are in the JSON only
    keys = [key for key in rows[0] if key != "bytes"]
    print("| " + " | ".join(keys) + " | MB |\n|" + "---|" * (len(keys) + 1))
    for row in rows:
        print("| " + " | ".join(str(row[key]) for key in keys) + f" | {row['bytes'] / 1e6:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
