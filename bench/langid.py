"""Benchmark language identification: accuracy per language, unserved languages, speed, confusions.

Served languages: held-out text of every language in the shared data (``app.langid.texts``: the
test split, by document, which the n-gram classifier never trains on), as short queries (at most
10 words: real questions, else runs of 3-10 words) and paragraphs (150-1,200 characters: real
paragraphs, else consecutive held-out sentences of one document).

Unserved languages: translated messages of the gettext catalogs installed on this machine
(``/usr/share/locale/*/LC_MESSAGES/*.mo``: coreutils, glib, gtk ...) for every locale whose
language Polylex does not serve, from catalogs of at least 300 messages. Not legal text, and
partly untranslated English, but real text in some 60 languages, many of them close relatives
of served ones (Catalan, Galician, Asturian of Spanish; Malay of Indonesian; Ukrainian of
Russian). A detector is right on them when it says ``und`` or the correct code. Skipped, and
said so, where the machine has no catalogs.

Goals (issue 6): >= 0.95 at paragraph length on the served languages a detector claims, >= 0.85 on
short queries, and ``und`` (or the right code) for >= 0.9 of unserved-language texts.

Usage: python bench/langid.py [--per-lang 100] [--backends default,cld3,fasttext,langdetect]
Writes bench/results/langid.json and prints a Markdown summary. About 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import gettext
import json
import platform
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.langid import BACKENDS, SERVED, UND, detect, detect_batch, supported_languages  # noqa: E402
from app.langid.backends import get_backend  # noqa: E402
from app.langid.ngram import data_fingerprint  # noqa: E402
from app.langid.texts import heldout_samples, labelled_texts  # noqa: E402
from corpora.languages import UnknownLanguage, is_low_resource, normalize_code  # noqa: E402
from corpora.settings import get_settings  # noqa: E402

LENGTHS = ("paragraph", "short")
GOALS = {"paragraph": 0.95, "short": 0.85, "unserved": 0.9}
MIN_CATALOG_TEXTS = 300
# Format directives, markup, URLs, command-line options, keyboard accelerators, escapes.
_CATALOG_NOISE = [re.compile(p) for p in (
    r"%\d*\$?[-#0 +']*\d*(?:\.\d+)?[hlLqjzt]*[a-zA-Z%]", r"\{[^}]*\}", r"<[^>]+>", r"https?://\S+",
    r"(?<!\w)--?[A-Za-z][\w-]*", r"[_&](?=\w)", r"\\[nt]",
)]


def _locale_code(locale: str) -> str | None:
    try:
        return normalize_code(re.split(r"[_@.]", locale)[0])
    except UnknownLanguage:
        return None


def catalog_texts(root: Path) -> dict[str, list[str]]:
    """Cleaned translated messages per locale (``"pl"``, ``"sr@latin"``) from gettext catalogs under ``root``."""
    texts: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.glob("*/LC_MESSAGES/*.mo")):
        if path.name.startswith("iso_"):
            continue  # translated lists of country and language names, not sentences
        try:
            with path.open("rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog  # the parsed message table
        except Exception:  # noqa: BLE001 - gettext raises many kinds on broken or non-UTF-8 catalogs: skip them
            continue
        for source, translation in catalog.items():
            if not isinstance(source, str) or not source or not isinstance(translation, str) or translation == source:
                continue
            for part in translation.split("\n\n"):
                for pattern in _CATALOG_NOISE:
                    part = pattern.sub(" ", part)
                part = " ".join(part.split())
                if sum(char.isalpha() for char in part) >= 10:
                    texts[path.parent.parent.name].append(part)
    return texts


def catalog_samples(
    texts: dict[str, list[str]], per_lang: int, seed: int, *, served: bool = False
) -> dict[str, dict[str, list[str]]]:
    """``{length: {locale: [text, ...]}}`` from catalogs: short = 3-10 words, paragraph = 150+ characters (joined).

    Locales of unserved languages, or with ``served=True`` those of served ones (an
    out-of-domain check: software messages, not news or law). Locales that name a variant of a
    served language in another script (``uz@cyrillic``, ``pa_PK``), English ones (mostly
    untranslated) and catalogs too small to trust their label are left out.
    """
    rng = random.Random(seed)
    samples: dict[str, dict[str, list[str]]] = {"short": {}, "paragraph": {}}
    for locale, messages in sorted(texts.items()):
        code = _locale_code(locale)
        if len(messages) < MIN_CATALOG_TEXTS or (code in SERVED) != served or locale.startswith(("en", "ak")):
            continue
        if served and ("@" in locale or locale in ("pa_PK", "zh_TW", "zh_HK")):
            continue
        pool = messages[:]
        rng.shuffle(pool)
        samples["short"][locale] = [m for m in pool if 3 <= len(m.split()) <= 10][:per_lang]
        long, joined, buffer = [m[:1200] for m in pool if len(m) >= 150][:per_lang], [], []
        for message in pool:
            if len(long) + len(joined) >= per_lang:
                break
            buffer.append(message)
            if sum(len(m) + 1 for m in buffer) >= 150:
                joined.append(" ".join(buffer)[:1200])
                buffer = []
        samples["paragraph"][locale] = long + joined
    return samples


def _served_scores(truth: list[str], found: list[str], claimed: frozenset[str], goal: float) -> dict:
    per_lang: dict[str, list[bool]] = defaultdict(list)
    confusions: Counter = Counter()
    for lang, answer in zip(truth, found):
        per_lang[lang].append(answer == lang)
        if answer != lang:
            confusions[(lang, answer)] += 1
    accuracy = {lang: sum(hits) / len(hits) for lang, hits in sorted(per_lang.items())}
    mine = [lang for lang in accuracy if lang in claimed]
    low = [lang for lang in mine if is_low_resource(lang)]
    mean = lambda langs: round(statistics.fmean(accuracy[lang] for lang in langs), 4) if langs else None  # noqa: E731
    return {
        "texts": len(truth),
        "accuracy_all_served": mean(list(accuracy)),
        "accuracy_claimed": mean(mine),
        "accuracy_claimed_low_resource": mean(low),
        "und_share": round(sum(answer == UND for answer in found) / max(len(found), 1), 4),
        "claimed_below_goal": sorted(lang for lang in mine if accuracy[lang] < goal),
        "per_language": {lang: round(value, 4) for lang, value in accuracy.items()},
        "top_confusions": [[a, b, n] for (a, b), n in confusions.most_common(15) if b != UND],
        "top_refusals": [[a, n] for (a, b), n in confusions.most_common(40) if b == UND][:10],
    }


def _unserved_scores(locales: list[str], found: list[str]) -> dict:
    per_lang: dict[str, list[bool]] = defaultdict(list)
    wrong: Counter = Counter()
    for locale, answer in zip(locales, found):
        good = answer == UND or answer == _locale_code(locale)
        per_lang[locale].append(good)
        if not good:
            wrong[(locale, answer)] += 1
    share = {locale: sum(v) / len(v) for locale, v in sorted(per_lang.items())}
    return {
        "texts": len(locales),
        "languages": len(share),
        "not_wrong": round(statistics.fmean(share.values()), 4) if share else None,
        "und_share": round(sum(answer == UND for answer in found) / max(len(found), 1), 4),
        "per_language": {locale: round(value, 4) for locale, value in share.items()},
        "top_wrong": [[a, b, n] for (a, b), n in wrong.most_common(15)],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-lang", type=int, default=100, help="texts per language and length (default 100)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated, of {', '.join(BACKENDS)}")
    parser.add_argument("--locale-dir", type=Path, default=Path("/usr/share/locale"), help="gettext catalogs of unserved languages")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "langid.json")
    args = parser.parse_args()
    names = args.backends.split(",")
    unknown = set(names) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backends {sorted(unknown)}; valid: {', '.join(BACKENDS)}")

    settings = get_settings()
    started = time.perf_counter()
    texts = list(labelled_texts(settings.data))
    if not texts:
        parser.error(f"no data sets under {settings.data} (set POLYLEX_DATA)")
    served = {length: heldout_samples(texts, length=length, per_lang=args.per_lang, seed=args.seed) for length in LENGTHS}
    messages = catalog_texts(args.locale_dir) if args.locale_dir.is_dir() else {}
    catalogs = catalog_samples(messages, args.per_lang // 2, args.seed) if messages else None
    catalogs_served = catalog_samples(messages, args.per_lang // 2, args.seed, served=True) if messages else None

    report: dict = {
        "what": "held-out text of the shared data (served) and gettext catalogs (unserved); see bench/langid.py",
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
        "data": str(settings.data),
        "data_fingerprint": data_fingerprint(settings.data),
        "per_lang": args.per_lang,
        "seed": args.seed,
        "unserved_source": str(args.locale_dir) if catalogs else None,
        "goals": GOALS,
        "backends": {},
    }
    model_file = settings.cache / "langid" / f"ngram-{data_fingerprint(settings.data)}.npz"
    report["ngram_model_was_cached"] = model_file.is_file()  # if not, default's first call trained it
    for name in names:
        load_started = time.perf_counter()
        detect("warm-up: load the models", backend=name)
        load_s = time.perf_counter() - load_started
        if name == "default":
            claimed = supported_languages()
        else:
            claimed = frozenset(get_backend(name).languages) & SERVED
        result: dict = {
            "claimed_languages": sorted(claimed), "first_call_s": round(load_s, 2),
            "served": {}, "unserved": {}, "served_out_of_domain": {},
        }
        batch_texts, batch_seconds = 0, 0.0
        for length in LENGTHS:
            truth = [lang for lang, items in served[length].items() for _ in items]
            items = [text for values in served[length].values() for text in values]
            clock = time.perf_counter()
            found = [answer.lang for answer in detect_batch(items, backend=name)]
            batch_seconds += time.perf_counter() - clock
            batch_texts += len(items)
            result["served"][length] = _served_scores(truth, found, claimed, GOALS[length])
            if catalogs:
                locales = [locale for locale, values in catalogs[length].items() for _ in values]
                found = [answer.lang for answer in detect_batch([t for v in catalogs[length].values() for t in v], backend=name)]
                result["unserved"][length] = _unserved_scores(locales, found)
                truth = [_locale_code(locale) for locale, values in catalogs_served[length].items() for _ in values]
                found = [a.lang for a in detect_batch([t for v in catalogs_served[length].values() for t in v], backend=name)]
                result["served_out_of_domain"][length] = _served_scores(truth, found, claimed, GOALS[length])
        queries = [text for values in served["short"].values() for text in values[:3]]
        clock = time.perf_counter()
        for query in queries:
            detect(query, backend=name)
        result["speed"] = {
            "batch_texts_per_s": round(batch_texts / batch_seconds, 1),
            "single_query_ms": round(1000 * (time.perf_counter() - clock) / len(queries), 2),
        }
        report["backends"][name] = result
        print(f"{name}: done after {time.perf_counter() - started:.0f} s", file=sys.stderr)
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(summary(report))
    return 0


def summary(report: dict) -> str:
    """The comparison table of the README, from a report."""
    lines = [
        "| detector | claims (of 64 served + ka hy kn dv) | paragraph, claimed | short, claimed | paragraph, all served "
        "| short, all served | unserved paragraph: und or right | unserved short | gettext paragraphs, claimed served "
        "| texts/s (batch) | ms/query |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in report["backends"].items():
        s, u, o = result["served"], result.get("unserved") or {}, result.get("served_out_of_domain") or {}
        cell = lambda part, length, key: "–" if not part.get(length) or part[length][key] is None else f"{part[length][key]:.3f}"  # noqa: E731
        lines.append(
            f"| {name} | {len(result['claimed_languages'])} | {cell(s, 'paragraph', 'accuracy_claimed')} | {cell(s, 'short', 'accuracy_claimed')} "
            f"| {cell(s, 'paragraph', 'accuracy_all_served')} | {cell(s, 'short', 'accuracy_all_served')} "
            f"| {cell(u, 'paragraph', 'not_wrong')} | {cell(u, 'short', 'not_wrong')} | {cell(o, 'paragraph', 'accuracy_claimed')} "
            f"| {result['speed']['batch_texts_per_s']:.0f} | {result['speed']['single_query_ms']:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
