"""Language metadata: code, ISO 639-3, English name, script and resource level.

Codes. ``Language.code`` is the ISO 639-1 code where one exists, else ISO 639-3 (``bem``, ``fon``,
``nso``). Every record in Polylex (pairs, benchmarks, chunks) carries this code. ``get_language``
also accepts ISO 639-3 codes, individual-language codes of a macrolanguage (``arb`` -> ``ar``,
``cmn`` -> ``zh``, ``swh`` -> ``sw``, ``kmr`` -> ``ku``, ``fuc`` -> ``ff``) and tags with a script or
region suffix as found in NTREX-128 and BCP 47 (``zho-CN``, ``tgk-Cyrl``, ``sna-Latn``, ``en_US``).

Scripts are ISO 15924 codes (``Latn``, ``Cyrl``, ``Arab``, ``Deva``, ``Ethi``, ``Hani`` ...), the
script the language is usually written in (Serbian: Cyrillic; Chinese: ``Hani`` for both forms;
Japanese ``Jpan``; Korean ``Hang``).

Resource level, the rule: a language is ``"high"`` when XLM-R's pre-training corpus CC-100 holds at
least 20 GiB of its text (Conneau et al. 2020, "Unsupervised Cross-lingual Representation Learning
at Scale", Table 6). That is the top 31 of CC-100's 100 languages, from English (300.8 GiB) down to
Hindi (20.2 GiB); it keeps all eleven XQuAD-R languages high, as the LAReQA literature treats them.
Every other language is ``"low"``, including those CC-100 lacks altogether (most African languages
here). Our encoder, multilingual-e5-small, starts from XLM-R's vocabulary and pre-training, which is
why CC-100 is the yardstick. Norwegian: CC-100's ``no`` (49 GiB) is almost all Bokmål, so ``nb`` is
high and Nynorsk (``nn``) low. The sizes are kept in ``CC100_GIB`` so the rule is checkable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from corpora.errors import DataError

Resource = Literal["high", "low"]

HIGH_RESOURCE_MIN_GIB = 20.0

# CC-100 size in GiB per language (XLM-R paper, Table 6), for languages at or near the threshold
# and every language of our data that CC-100 covers. Chinese is Simplified + Traditional.
CC100_GIB: dict[str, float] = {
    "en": 300.8, "ru": 278.0, "id": 148.3, "vi": 137.3, "fa": 111.6, "sv": 85.0, "uk": 84.6,
    "th": 71.7, "ja": 69.3, "de": 66.6, "zh": 63.5, "ro": 61.4, "hu": 58.4, "bg": 57.5, "fr": 56.8,
    "fi": 54.3, "ko": 54.2, "es": 53.3, "pt": 49.1, "nb": 49.0, "el": 46.9, "da": 45.6, "pl": 44.6,
    "he": 31.6, "it": 30.2, "nl": 29.3, "ar": 28.0, "sk": 23.2, "tr": 20.9, "hr": 20.5, "hi": 20.2,
    "cs": 16.3, "lt": 13.7, "ta": 12.2, "sl": 10.3, "ca": 10.1, "ka": 9.1, "sr": 9.1, "lv": 8.8,
    "ms": 8.5, "bn": 8.4, "ml": 7.6, "az": 6.5, "kk": 6.4, "et": 6.1, "ur": 5.7, "hy": 5.5,
    "sq": 5.4, "mk": 4.8, "te": 4.7, "be": 4.3, "ne": 3.8, "si": 3.6, "kn": 3.3, "is": 3.2,
    "tl": 3.1, "mn": 3.0, "gl": 2.9, "mr": 2.8, "la": 2.5, "eu": 2.0, "gu": 1.9, "my": 2.0,
    "sw": 1.6, "km": 1.5, "af": 1.3, "ky": 1.2, "am": 0.8, "pa": 0.8, "cy": 0.8, "ps": 0.7,
    "uz": 0.7, "or": 0.6, "lo": 0.6, "ga": 0.5, "ku": 0.4, "so": 0.4, "sd": 0.4, "ug": 0.4,
    "ha": 0.3, "yi": 0.3, "mg": 0.2, "xh": 0.1, "om": 0.1, "bs": 0.1,
    "hbs": 29.7,  # the family language ID answers for Bosnian and Croatian text: hr + sr + bs, so as high as Croatian
}


@dataclass(frozen=True)
class Language:
    """One language. ``resource`` follows the CC-100 rule of the module docstring."""

    code: str
    iso3: str
    name: str
    script: str
    resource: Resource


class UnknownLanguage(DataError, ValueError):
    """A language code that is not in the table."""


# code, iso3, name, script. Order: the languages of our data first, then others users may upload.
_TABLE: list[tuple[str, str, str, str]] = [
    # XQuAD / XQuAD-R / MLQA-R
    ("ar", "ara", "Arabic", "Arab"),
    ("de", "deu", "German", "Latn"),
    ("el", "ell", "Greek", "Grek"),
    ("en", "eng", "English", "Latn"),
    ("es", "spa", "Spanish", "Latn"),
    ("hi", "hin", "Hindi", "Deva"),
    ("ro", "ron", "Romanian", "Latn"),
    ("ru", "rus", "Russian", "Cyrl"),
    ("th", "tha", "Thai", "Thai"),
    ("tr", "tur", "Turkish", "Latn"),
    ("vi", "vie", "Vietnamese", "Latn"),
    ("zh", "zho", "Chinese", "Hani"),
    # AfriQA, AmQA
    ("bem", "bem", "Bemba", "Latn"),
    ("fon", "fon", "Fon", "Latn"),
    ("ha", "hau", "Hausa", "Latn"),
    ("ig", "ibo", "Igbo", "Latn"),
    ("rw", "kin", "Kinyarwanda", "Latn"),
    ("sw", "swa", "Swahili", "Latn"),
    ("tw", "twi", "Twi", "Latn"),
    ("wo", "wol", "Wolof", "Latn"),
    ("yo", "yor", "Yoruba", "Latn"),
    ("zu", "zul", "Zulu", "Latn"),
    ("fr", "fra", "French", "Latn"),
    ("am", "amh", "Amharic", "Ethi"),
    # constitutions
    ("it", "ita", "Italian", "Latn"),
    ("nb", "nob", "Norwegian Bokmål", "Latn"),
    ("nn", "nno", "Norwegian Nynorsk", "Latn"),
    # MILPaC
    ("bn", "ben", "Bengali", "Beng"),
    ("mr", "mar", "Marathi", "Deva"),
    ("ta", "tam", "Tamil", "Taml"),
    ("te", "tel", "Telugu", "Telu"),
    ("ml", "mal", "Malayalam", "Mlym"),
    ("gu", "guj", "Gujarati", "Gujr"),
    ("pa", "pan", "Punjabi", "Guru"),
    ("or", "ori", "Odia", "Orya"),
    # NTREX-128 subset (beyond the above)
    ("xh", "xho", "Xhosa", "Latn"),
    ("so", "som", "Somali", "Latn"),
    ("mg", "mlg", "Malagasy", "Latn"),
    ("ne", "nep", "Nepali", "Deva"),
    ("si", "sin", "Sinhala", "Sinh"),
    ("km", "khm", "Khmer", "Khmr"),
    ("lo", "lao", "Lao", "Laoo"),
    ("my", "mya", "Burmese", "Mymr"),
    ("ky", "kir", "Kyrgyz", "Cyrl"),
    ("tg", "tgk", "Tajik", "Cyrl"),
    ("uz", "uzb", "Uzbek", "Latn"),
    ("ps", "pus", "Pashto", "Arab"),
    ("ti", "tir", "Tigrinya", "Ethi"),
    ("om", "orm", "Oromo", "Latn"),
    ("sn", "sna", "Shona", "Latn"),
    ("ny", "nya", "Chichewa", "Latn"),
    ("tn", "tsn", "Tswana", "Latn"),
    ("nso", "nso", "Northern Sotho", "Latn"),
    ("ss", "ssw", "Swati", "Latn"),
    ("ve", "ven", "Venda", "Latn"),
    ("ee", "ewe", "Ewe", "Latn"),
    ("ff", "fuc", "Pulaar (Fula)", "Latn"),
    ("ku", "kmr", "Kurdish (Kurmanji)", "Latn"),
    ("sd", "snd", "Sindhi", "Arab"),
    ("ur", "urd", "Urdu", "Arab"),
    ("pt", "por", "Portuguese", "Latn"),
    ("ja", "jpn", "Japanese", "Jpan"),
    ("ko", "kor", "Korean", "Hang"),
    ("id", "ind", "Indonesian", "Latn"),
    # Other languages a user may upload (all CC-100 high-resource ones among them)
    ("nl", "nld", "Dutch", "Latn"),
    ("pl", "pol", "Polish", "Latn"),
    ("he", "heb", "Hebrew", "Hebr"),
    ("ka", "kat", "Georgian", "Geor"),
    ("hy", "hye", "Armenian", "Armn"),
    ("fa", "fas", "Persian", "Arab"),
    ("sv", "swe", "Swedish", "Latn"),
    ("da", "dan", "Danish", "Latn"),
    ("fi", "fin", "Finnish", "Latn"),
    ("hu", "hun", "Hungarian", "Latn"),
    ("cs", "ces", "Czech", "Latn"),
    ("sk", "slk", "Slovak", "Latn"),
    ("sl", "slv", "Slovenian", "Latn"),
    ("hr", "hrv", "Croatian", "Latn"),
    ("bs", "bos", "Bosnian", "Latn"),
    ("sr", "srp", "Serbian", "Cyrl"),
    ("bg", "bul", "Bulgarian", "Cyrl"),
    ("mk", "mkd", "Macedonian", "Cyrl"),
    ("uk", "ukr", "Ukrainian", "Cyrl"),
    ("be", "bel", "Belarusian", "Cyrl"),
    ("lt", "lit", "Lithuanian", "Latn"),
    ("lv", "lav", "Latvian", "Latn"),
    ("et", "est", "Estonian", "Latn"),
    ("ca", "cat", "Catalan", "Latn"),
    ("gl", "glg", "Galician", "Latn"),
    ("eu", "eus", "Basque", "Latn"),
    ("ga", "gle", "Irish", "Latn"),
    ("cy", "cym", "Welsh", "Latn"),
    ("mt", "mlt", "Maltese", "Latn"),
    ("is", "isl", "Icelandic", "Latn"),
    ("lb", "ltz", "Luxembourgish", "Latn"),
    ("sq", "sqi", "Albanian", "Latn"),
    ("la", "lat", "Latin", "Latn"),
    ("af", "afr", "Afrikaans", "Latn"),
    ("ms", "msa", "Malay", "Latn"),
    ("tl", "tgl", "Tagalog (Filipino)", "Latn"),
    ("az", "aze", "Azerbaijani", "Latn"),
    ("kk", "kaz", "Kazakh", "Cyrl"),
    ("mn", "mon", "Mongolian", "Cyrl"),
    ("kn", "kan", "Kannada", "Knda"),
    ("as", "asm", "Assamese", "Beng"),
    ("ug", "uig", "Uyghur", "Arab"),
    ("yi", "yid", "Yiddish", "Hebr"),
    ("bo", "bod", "Tibetan", "Tibt"),
    ("dv", "div", "Divehi", "Thaa"),
    # NTREX-128 (complete) beyond the above
    ("ba", "bak", "Bashkir", "Cyrl"),
    ("ckb", "ckb", "Central Kurdish (Sorani)", "Arab"),
    ("dz", "dzo", "Dzongkha", "Tibt"),
    ("fo", "fao", "Faroese", "Latn"),
    ("fj", "fij", "Fijian", "Latn"),
    ("gsw", "gsw", "Swiss German", "Latn"),
    ("hmn", "hmn", "Hmong", "Latn"),
    ("mi", "mri", "Maori", "Latn"),
    ("nd", "nde", "North Ndebele", "Latn"),
    ("shi", "shi", "Tachelhit (Arabic script)", "Arab"),
    ("sm", "smo", "Samoan", "Latn"),
    ("ty", "tah", "Tahitian", "Latn"),
    ("tt", "tat", "Tatar", "Cyrl"),
    ("to", "ton", "Tongan", "Latn"),
    ("tk", "tuk", "Turkmen", "Latn"),
    ("yue", "yue", "Cantonese", "Hani"),
    # Tatoeba beyond the above
    ("awa", "awa", "Awadhi", "Deva"),
    ("ber", "ber", "Berber (Latin script)", "Latn"),
    ("br", "bre", "Breton", "Latn"),
    ("cbk", "cbk", "Chavacano", "Latn"),
    ("ceb", "ceb", "Cebuano", "Latn"),
    ("ch", "cha", "Chamorro", "Latn"),
    ("kw", "cor", "Cornish", "Latn"),
    ("csb", "csb", "Kashubian", "Latn"),
    ("dsb", "dsb", "Lower Sorbian", "Latn"),
    ("hsb", "hsb", "Upper Sorbian", "Latn"),
    ("dtp", "dtp", "Central Dusun", "Latn"),
    ("kzj", "kzj", "Coastal Kadazan", "Latn"),
    ("eo", "epo", "Esperanto", "Latn"),
    ("fy", "fry", "Western Frisian", "Latn"),
    ("gd", "gla", "Scottish Gaelic", "Latn"),
    ("jv", "jav", "Javanese", "Latn"),
    ("kab", "kab", "Kabyle", "Latn"),
    ("max", "max", "North Moluccan Malay", "Latn"),
    ("mhr", "mhr", "Eastern Mari", "Cyrl"),
    ("nds", "nds", "Low German", "Latn"),
    ("oc", "oci", "Occitan", "Latn"),
    ("pam", "pam", "Kapampangan", "Latn"),
    ("pms", "pms", "Piedmontese", "Latn"),
    ("swg", "swg", "Swabian", "Latn"),
    ("war", "war", "Waray", "Latn"),
    ("wuu", "wuu", "Wu Chinese", "Hani"),
    ("ast", "ast", "Asturian", "Latn"),
    ("ang", "ang", "Old English", "Latn"),
    ("orv", "orv", "Old Russian", "Cyrl"),
    ("ia", "ina", "Interlingua", "Latn"),
    ("io", "ido", "Ido", "Latn"),
    ("ie", "ile", "Interlingue", "Latn"),
    ("lfn", "lfn", "Lingua Franca Nova", "Latn"),
    ("nov", "nov", "Novial", "Latn"),
    ("tzl", "tzl", "Talossan", "Latn"),
    # Close relatives of served languages that no data set here has text for (language ID answers
    # ``und`` or the family for them), and the families it may answer when relatives are too close.
    ("st", "sot", "Southern Sotho", "Latn"),
    ("rn", "run", "Kirundi", "Latn"),
    ("ln", "lin", "Lingala", "Latn"),
    # Language ID answers it for every Bosnian and Croatian text in Latin script (it cannot tell them
    # apart): the three names first, as courts and translators write them ("BCS"), not the old one alone.
    ("hbs", "hbs", "Bosnian / Croatian / Serbian (Serbo-Croatian)", "Latn"),
    # Unserved languages Debian's translation catalogs have text of (language ID learns them to
    # refuse them: app.langid.catalogs)
    ("ach", "ach", "Acholi", "Latn"),
    ("an", "arg", "Aragonese", "Latn"),
    ("ay", "aym", "Aymara", "Latn"),
    ("bi", "bis", "Bislama", "Latn"),
    ("crh", "crh", "Crimean Tatar", "Latn"),
    ("fur", "fur", "Friulian", "Latn"),
    ("gn", "grn", "Guarani", "Latn"),
    ("gv", "glv", "Manx", "Latn"),
    ("hus", "hus", "Huastec", "Latn"),
    ("lg", "lug", "Ganda", "Latn"),
    ("li", "lim", "Limburgish", "Latn"),
    ("mai", "mai", "Maithili", "Deva"),
    ("pap", "pap", "Papiamento", "Latn"),
    ("qu", "que", "Quechua", "Latn"),
    ("sc", "srd", "Sardinian", "Latn"),
    ("wa", "wln", "Walloon", "Latn"),
]

# Individual-language and alternative ISO 639 codes that mean one of our languages.
_ALIASES: dict[str, str] = {
    "arb": "ar", "cmn": "zh", "chi": "zh", "swh": "sw", "kmr": "ku", "kur": "ku", "fuc": "ff",
    "ful": "ff", "no": "nb", "nor": "nb", "ory": "or", "npi": "ne", "uzn": "uz", "pes": "fa",
    "per": "fa", "prs": "fa", "zsm": "ms", "may": "ms", "ekk": "et", "plt": "mg", "gaz": "om",
    "khk": "mn", "azj": "az", "lvs": "lv", "als": "sq", "alb": "sq", "pbt": "ps", "ydd": "yi",
    "fil": "tl", "iw": "he", "in": "id", "ji": "yi", "ger": "de", "fre": "fr", "dut": "nl",
    "gre": "el", "cze": "cs", "slo": "sk", "rum": "ro", "arm": "hy", "geo": "ka", "bur": "my",
    "tib": "bo", "wel": "cy", "ice": "is", "baq": "eu", "mac": "mk", "aka": "tw", "ak": "tw",
    "pnb": "pa", "twi": "tw",
    # Arabic dialects written down (Tatoeba's Egyptian and Algerian, NTREX's Hassaniya): Arabic.
    "arz": "ar", "arq": "ar", "mey": "ar",
    # Individual languages of the macrolanguages above, as Debian's catalogs name them.
    "ayc": "ay", "ayr": "ay", "gug": "gn", "quz": "qu", "quy": "qu",
}

LANGUAGES: dict[str, Language] = {
    code: Language(
        code, iso3, name, script,
        "high" if CC100_GIB.get(code, 0.0) >= HIGH_RESOURCE_MIN_GIB else "low",
    )
    for code, iso3, name, script in _TABLE
}
_BY_ISO3 = {lang.iso3: lang for lang in LANGUAGES.values()}

_SUFFIX = re.compile(r"[-_].*$")


def get_language(code: str) -> Language:
    """Look a language up by ISO 639-1, ISO 639-3 or a tag with a script/region suffix.

    Example::

        >>> get_language("zho-CN").name
        'Chinese'
        >>> get_language("arb").code
        'ar'

    Raises:
        UnknownLanguage: the code is not in the table (the message lists how to see the valid ones).
    """
    key = code.strip()
    if key in LANGUAGES:
        return LANGUAGES[key]
    base = _SUFFIX.sub("", key).lower()
    base = _ALIASES.get(base, base)
    found = LANGUAGES.get(base) or _BY_ISO3.get(base)
    if found is None:
        raise UnknownLanguage(
            f"unknown language {code!r}; valid: ISO 639-1/639-3 codes of corpora.languages.LANGUAGES, "
            f"e.g. {', '.join(sorted(LANGUAGES)[:12])}, ..."
        )
    return found


def normalize_code(code: str) -> str:
    """Our code for ``code`` (``"arb"`` -> ``"ar"``); raises ``UnknownLanguage`` when unknown."""
    return get_language(code).code


def language_name(code: str) -> str:
    """English name of a language; an unknown code is returned as is, so labels never crash."""
    try:
        return get_language(code).name
    except UnknownLanguage:
        return code


def is_low_resource(code: str) -> bool:
    """True unless the language has at least 20 GiB in CC-100; unknown languages count as low."""
    try:
        return get_language(code).resource == "low"
    except UnknownLanguage:
        return True


def resource_level(code: str) -> Resource:
    """``"high"`` or ``"low"`` (unknown codes: ``"low"``)."""
    return "low" if is_low_resource(code) else "high"
