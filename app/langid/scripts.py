"""Unicode scripts of a text, and what each script says about its language.

Many scripts belong to one language we serve (Khmer, Lao, Myanmar, Sinhala, Thai, Gujarati,
Gurmukhi, Oriya, Tamil, Telugu, Malayalam, Greek, Hangul, Kana); for those the script alone
decides. Others narrow the choice (Ethiopic: Amharic or Tigrinya; Hebrew: Hebrew or Yiddish;
Latin: 90 languages) and leave the rest to the n-gram classifier. A script we serve no language
in (Syriac, Bengali with Assamese letters, Cyrillic with the letters or spellings of early
Cyrillic) makes the answer ``und``.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from functools import cache

import regex

# (first code point, last code point, script). Letters only matter: digits, punctuation and
# spaces fall outside every range and are not counted.
_RANGES = sorted([
    (0x0041, 0x005A, "Latin"), (0x0061, 0x007A, "Latin"), (0x00C0, 0x024F, "Latin"),
    (0x0250, 0x02AF, "Latin"), (0x1E00, 0x1EFF, "Latin"), (0x2C60, 0x2C7F, "Latin"),
    (0xA720, 0xA7FF, "Latin"), (0xFF21, 0xFF3A, "Latin"), (0xFF41, 0xFF5A, "Latin"),
    # Ewe, Twi, Fon and others write open vowels with IPA letters (ɛ ɔ ɖ ƒ ŋ) and 0x0300 accents.
    (0x0370, 0x03FF, "Greek"), (0x1F00, 0x1FFF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"), (0x1C80, 0x1C8F, "Cyrillic"), (0xA640, 0xA69F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"), (0x0750, 0x077F, "Arabic"), (0x08A0, 0x08FF, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"), (0xFE70, 0xFEFF, "Arabic"),
    (0x0780, 0x07BF, "Thaana"),
    (0x0900, 0x097F, "Devanagari"), (0xA8E0, 0xA8FF, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"),
    (0x0D80, 0x0DFF, "Sinhala"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"),
    (0x0F00, 0x0FFF, "Tibetan"),
    (0x1000, 0x109F, "Myanmar"), (0xAA60, 0xAA7F, "Myanmar"),
    (0x10A0, 0x10FF, "Georgian"), (0x1C90, 0x1CBF, "Georgian"),
    (0x1100, 0x11FF, "Hangul"), (0x3130, 0x318F, "Hangul"), (0xAC00, 0xD7AF, "Hangul"),
    (0x1200, 0x139F, "Ethiopic"), (0x2D80, 0x2DDF, "Ethiopic"), (0xAB00, 0xAB2F, "Ethiopic"),
    (0x1780, 0x17FF, "Khmer"), (0x19E0, 0x19FF, "Khmer"),
    (0x1800, 0x18AF, "Mongolian"),
    (0x3040, 0x309F, "Kana"), (0x30A0, 0x30FF, "Kana"), (0x31F0, 0x31FF, "Kana"), (0xFF66, 0xFF9D, "Kana"),
    (0x3400, 0x4DBF, "Han"), (0x4E00, 0x9FFF, "Han"), (0xF900, 0xFAFF, "Han"), (0x20000, 0x2FA1F, "Han"),
])
_STARTS = [start for start, _, _ in _RANGES]

# Every language Polylex identifies: those with at least 10,000 characters of training text
# (by document, ``texts.py``) in the shared data, NTREX-128 and Tatoeba among them. Left out although
# Tatoeba has them: historical languages (Old English, Old Russian) and constructed ones other than
# Esperanto (Ido, Interlingua, Interlingue, Lingua Franca Nova, Novial, Talossan); nobody files law
# in them and, served, they would draw Romance and Germanic text their way. ``python -m
# app.langid.build`` refuses to build when a language here has too little text.
SERVED_LANGUAGES: tuple[str, ...] = (
    "af", "am", "ar", "az", "ba", "be", "bem", "ber", "bg", "bn", "bo", "br", "bs", "ca", "cbk", "ceb", "ckb",
    "cs", "cy", "da", "de", "dsb", "dtp", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff",
    "fi", "fj", "fo", "fon", "fr", "ga", "gd", "gl", "gu", "ha", "he", "hi", "hmn", "hr", "hsb", "hu", "hy",
    "id", "ig", "is", "it", "ja", "ka", "kab", "kk", "km", "kn", "ko", "ku", "kw", "ky", "kzj", "la", "lb",
    "lo", "lt", "lv", "mg", "mhr", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "nb", "nd", "nds", "ne",
    "nl", "nn", "ny", "oc", "om", "or", "pa", "pam", "pl", "pms", "ps", "pt", "ro", "ru", "rw", "sd", "shi",
    "si", "sk", "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "sv", "sw", "ta", "te", "tg", "th", "ti",
    "tk", "tl", "tn", "to", "tr", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "war", "wo", "xh",
    "yi", "yo", "yue", "zh", "zu",
)

# Languages the data has some text of that Polylex does not serve (historical, constructed, too
# little text). The classifier learns them as well, so that their text, and text near them, has
# somewhere to go besides the nearest served language: a pick of one of them answers ``und``.
# Not Wu Chinese (``zh``, the macrolanguage, is a right answer for it) nor Old Russian (Tatoeba's
# Old Russian is close enough to Russian to win the query "право на жизнь"): a query in the modern
# language must not be refused.
#
# CATALOG_REJECT_LANGUAGES: languages only Debian's translation catalogs have text of (``catalogs.PACKAGES``;
# every unserved language with at least 10,000 characters there, Assamese aside, which its letters
# already tell). Mostly close relatives of served languages (Friulian, Sardinian and Aragonese of
# the Romance ones, Limburgish of Dutch, Crimean Tatar of Turkish, Maithili of Hindi, Northern
# Sotho of Tswana) that were read as them.
CATALOG_REJECT_LANGUAGES: tuple[str, ...] = (
    "ach", "an", "ay", "bi", "crh", "fur", "gn", "gv", "hus", "lg", "li", "ln", "mai", "nso", "pap", "qu", "sc", "wa",
)
REJECT_LANGUAGES: tuple[str, ...] = (
    "ang", "ia", "io", "ie", "lfn", "nov", "tzl", "ast", "awa", "swg", "gsw", "jv", "fy", "csb", "max", "ch",
    *CATALOG_REJECT_LANGUAGES,
)

# ISO 15924 code of ``corpora.languages`` -> the script names of ``_RANGES``.
_ISO15924 = {
    "Latn": "Latin", "Cyrl": "Cyrillic", "Arab": "Arabic", "Deva": "Devanagari", "Ethi": "Ethiopic",
    "Hani": "Han", "Hebr": "Hebrew", "Tibt": "Tibetan", "Grek": "Greek", "Armn": "Armenian",
    "Geor": "Georgian", "Beng": "Bengali", "Guru": "Gurmukhi", "Gujr": "Gujarati", "Orya": "Oriya",
    "Taml": "Tamil", "Telu": "Telugu", "Knda": "Kannada", "Mlym": "Malayalam", "Sinh": "Sinhala",
    "Thai": "Thai", "Laoo": "Lao", "Khmr": "Khmer", "Mymr": "Myanmar", "Hang": "Hangul", "Jpan": "Kana",
    "Thaa": "Thaana",
}
# Languages written in a second script often enough to be found in it: half the NTREX Serbian is
# Latin; a third of Tatoeba's Lingua Franca Nova is Cyrillic (refused in either script, but only a
# class of its own in Cyrillic keeps it from Macedonian and Serbian). (Uzbek Cyrillic, 5 % of its
# text here, is too little to learn: Latin only.)
_ALSO_WRITTEN_IN = {"sr": ("Latin",), "lfn": ("Cyrillic",)}


def _by_script(codes: tuple[str, ...], *, labels: bool) -> dict[str, tuple[str, ...]]:
    """Script -> the languages of ``codes`` written in it, as codes or (``labels``) as the
    classifier's labels (``"lfn@Cyrillic"``)."""
    from corpora.languages import get_language

    table: dict[str, list[str]] = {}
    for code in codes:
        for script in (_ISO15924[get_language(code).script], *_ALSO_WRITTEN_IN.get(code, ())):
            table.setdefault(script, []).append(class_label(code, script) if labels else code)
    return {script: tuple(found) for script, found in table.items()}


def class_label(lang: str, script: str) -> str:
    """The classifier's label for ``lang`` written in ``script``: ``"sr@Latin"`` for a language
    written in two scripts (one class per script, or Serbian Cyrillic would be judged by n-gram
    statistics half made of Latin text), the plain code otherwise."""
    return f"{lang}@{script}" if lang in _ALSO_WRITTEN_IN else lang


def language_of(label: str) -> str:
    """The language code of a classifier label: ``"sr@Latin"`` -> ``"sr"``."""
    return label.split("@")[0]


# Script -> the served languages written in it. One entry: the script decides (Khmer, Thai,
# Georgian ...). Several: the n-gram classifier chooses among them. Absent (Syriac, Mongolian
# script, Bengali with Assamese letters, Cyrillic with early Cyrillic signs): ``und``. Han without
# Kana is Chinese or Cantonese: Japanese text always carries kana (see dominant_script).
SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = _by_script(SERVED_LANGUAGES, labels=False)



@dataclass(frozen=True)
class UnservedVariant:
    """Signs that tell an unserved language (or stage) inside a served script: at ``share`` of the
    script's letters or more (0: any one sign), the text's script is ``name``, which no served
    language is written in.

    A sign is a letter of its own (``letters``), a spelling no served language writes (``spellings``,
    letters in a row), or a word with letters of both groups of ``apart``: letters that served
    languages write, but never in one language (a text may quote one language in another: only a
    word mixing them counts). All in lower case (a Latin capital I lowers to i, not to a dotless ı:
    a capital spelling with ı is missed)."""

    name: str
    letters: frozenset[str]
    share: float = 0.0
    spellings: tuple[str, ...] = ()
    apart: tuple[frozenset[str], frozenset[str]] | None = None

    def __post_init__(self) -> None:
        groups = (self.letters, *self.spellings, *(self.apart or ()))
        if any("".join(group) != "".join(group).lower() for group in groups):
            raise ValueError(f"{self.name}: signs are matched in lower-cased text, so they must be lower case")

    def signs(self, text: str) -> int:
        """How many signs of this variant ``text`` holds."""
        low = text.lower()
        present = set(low)  # the usual text has none of the letters: set operations, no counting
        count = sum(low.count(letter) for letter in self.letters & present)
        count += sum(low.count(spelling) for spelling in self.spellings if spelling in low)
        if self.apart and self.apart[0] & present and self.apart[1] & present:
            first, second = self.apart
            count += sum(1 for word in low.split() if first.intersection(word) and second.intersection(word))
        return count


_UNSERVED_VARIANTS: dict[str, UnservedVariant] = {
    # Assamese shares the Bengali script but has two letters of its own: without them, Bengali.
    "Bengali": UnservedVariant("Assamese", frozenset("ৰৱ")),
    # Early Cyrillic (Old Church Slavonic, Old East Slavic): letters no served language writes, nor
    # Russian before 1918 (which kept ѣ, і, ѳ, ѵ only: those stay Russian, in a paragraph; a short text
    # with them is ``und``, detector._ALPHABET_SCRIPTS); a jer before i (ъі: the
    # old spelling of ы), an i before a vowel (ıа: of ꙗ; Tatoeba's lines type that i as a dotless ı);
    # and a word with є (Ukrainian, which writes neither ѣ nor ъ) and ѣ (Russian before 1918) or ъ
    # (Russian, Bulgarian): "рєклъ". In the data: 580 of the 835 Old East Slavic lines have a sign
    # (452 an early letter), none of 32,641 Cyrillic lines of the served languages (NTREX-128 and
    # Tatoeba: Russian, Ukrainian, Belarusian, Bulgarian, Macedonian, Serbian, Kazakh, Tajik ...).
    # At one sign in a hundred Cyrillic letters (a Russian paragraph quoting an old word stays Russian).
    "Cyrillic": UnservedVariant(
        "Early Cyrillic", frozenset("ѧѫѩѭꙗѹꙋѡѯѱꙑѥѿ"), share=0.01,
        spellings=("ъі", "ъı", "ьі", "ьı", "ıа", "ıе", "ıє", "ıо", "ıу", "ıѣ"),
        apart=(frozenset("є"), frozenset("ѣъ")),
    ),
}


@dataclass(frozen=True)
class ScriptCount:
    """Letters per script in a text: ``counts["Latin"] == 12``; ``letters`` is their sum."""

    counts: Counter
    letters: int


SCAN_LIMIT = 4000  # characters of a text that its script is judged by


def count_scripts(text: str, *, limit: int = SCAN_LIMIT) -> ScriptCount:
    """Count the letters of each script in the first ``limit`` characters of ``text``."""
    counts: Counter = Counter()
    for char in text[:limit]:
        point = ord(char)
        if point < 0x41:
            continue
        index = bisect.bisect_right(_STARTS, point) - 1
        if index >= 0 and point <= _RANGES[index][1]:
            counts[_RANGES[index][2]] += 1
    return ScriptCount(counts, sum(counts.values()))


def dominant_script(text: str) -> str | None:
    """The script with the most letters (``"Kana"`` for any Japanese text), or ``None`` without letters.

    Two answers are not in the range table: ``"Assamese"`` and ``"Early Cyrillic"``, scripts of no
    served language (``_UNSERVED_VARIANTS``).

    Japanese mixes Han and Kana, and Han often outnumbers Kana; a tenth of the CJK letters in
    Kana is enough to call the text Japanese, while Chinese text has none.
    """
    scripts = count_scripts(text)
    if not scripts.letters:
        return None
    kana, han = scripts.counts["Kana"], scripts.counts["Han"]
    if kana and kana >= 0.1 * (kana + han) and kana + han >= 0.5 * scripts.letters:
        return "Kana"
    script, _ = scripts.counts.most_common(1)[0]
    variant = _UNSERVED_VARIANTS.get(script)
    if variant is not None:
        signs = variant.signs(text[:SCAN_LIMIT])
        if signs and signs >= variant.share * scripts.counts[script]:
            return variant.name  # not served: no languages, so ``und``
    return script


@cache
def _other_letters(script: str) -> regex.Pattern:
    # Letters (\p{L}) outside the ranges of ``script``: a negated class of non-letters and those ranges.
    ranges = "".join(f"\\U{start:08x}-\\U{end:08x}" for start, end, name in _RANGES if name == script)
    return regex.compile(f"[^\\P{{L}}{ranges}]+")


def only_script(text: str, script: str) -> str:
    """``text`` with the letters of every script but ``script`` replaced by a space.

    What the statistical detectors should see once the script has narrowed the choice: a Latin
    "DEMO" in the title of an Arabic document says nothing about which Arabic-script language it
    is, yet CLD3 lets the script of the first letters steer its answer (it calls the Arabic demo
    law Swedish), and the n-gram classifier counts "demo" as badly fitting Arabic.

    Example::

        >>> only_script("DEMO – قانون", "Arabic")
        '  – قانون'
    """
    return _other_letters(script).sub(" ", text)

# Served languages in a script where nothing tells them from a relative: the classifier learns them in
# it so as to refuse them there, as it does the unserved languages. Hindi and Urdu typed in Latin
# letters are one language in two standards (``romanised.py``; no data set has any, so the Hindi of
# the training split is romanised for it).
REFUSED_FORMS: tuple[str, ...] = ("hi@Latin",)

# Script -> the classifier's labels it knows in that script only in order to refuse them: the
# unserved languages (``REJECT_LANGUAGES``; ``"lfn@Cyrillic"``) and ``REFUSED_FORMS``.
SCRIPT_REJECTS: dict[str, tuple[str, ...]] = {
    script: (*labels, *(form for form in REFUSED_FORMS if form.split("@")[1] == script))
    for script, labels in _by_script(REJECT_LANGUAGES, labels=True).items()
}
