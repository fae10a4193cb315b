"""The public detector: script rules first, then a statistical detector among the candidates.

``backend="default"`` is the combination chosen by measurement (``bench/langid.py``); the other
names give one third-party detector's raw answer, mapped to Polylex codes, for comparison.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from app.langid import backends
from app.langid.scripts import SCRIPT_LANGUAGES, dominant_script

UND = backends.UND

# Latin-script languages served (every data set in ../shared/data) that cld3 knows.
_LATIN = ("en", "de", "fr", "es", "pt", "it", "ro", "tr", "vi", "id", "sw", "ha", "ig", "yo", "zu",
          "xh", "so", "mg", "uz", "sn", "ny", "ku")
SUPPORTED: frozenset[str] = frozenset(_LATIN) | {lang for langs in SCRIPT_LANGUAGES.values() for lang in langs}
"""Codes the default detector may return (besides ``und``)."""

BACKENDS = ("default", *backends.NAMES)

# Below this probability the statistical detector's answer is not trusted.
_MIN_CONFIDENCE = 0.5


class Detection(NamedTuple):
    """A language code and how sure the detector is (0..1; 0.0 with ``und`` for no answer)."""

    lang: str
    confidence: float


_UNKNOWN = Detection(UND, 0.0)


def detect(text: str, *, backend: str = "default") -> Detection:
    """Language of ``text``.

    Args:
        text: any length; only the first few thousand characters are read.
        backend: ``"default"`` (script rules + detectors, restricted to ``SUPPORTED``) or one
            of the third-party detectors in ``BACKENDS`` (their raw answer).

    Returns:
        ``Detection(lang, confidence)``, which unpacks as ``(code, confidence)``.
    """
    return detect_batch([text], backend=backend)[0]


def detect_batch(texts: Sequence[str], *, backend: str = "default") -> list[Detection]:
    """``[detect(t, backend=backend) for t in texts]``, with one model call for the whole batch."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown language-ID backend {backend!r}; valid: {list(BACKENDS)}")
    scripts = [dominant_script(text) for text in texts]
    answers = [_UNKNOWN] * len(texts)
    if backend != "default":
        todo = [i for i, script in enumerate(scripts) if script is not None]
        for i, (lang, confidence) in zip(todo, backends.get_backend(backend).predict([texts[i] for i in todo])):
            answers[i] = Detection(lang, confidence)
        return answers
    todo = []
    for i, script in enumerate(scripts):
        candidates = _LATIN if script == "Latin" else SCRIPT_LANGUAGES.get(script or "", ())
        if len(candidates) == 1:
            answers[i] = Detection(candidates[0], 1.0)
        elif candidates:
            todo.append((i, candidates))
    predictions = backends.get_backend("cld3").predict([texts[i] for i, _ in todo]) if todo else []
    for (i, candidates), (lang, confidence) in zip(todo, predictions):
        if lang in candidates and confidence >= _MIN_CONFIDENCE:
            answers[i] = Detection(lang, confidence)
    return answers


def document_language(chunks: Iterable[tuple[str, int]]) -> Detection:
    """Language of a document from its chunks' ``(language, length)``: the majority by length.

    ``und`` chunks count in the total but cannot win. The confidence is the winner's share of
    all the text, so a document that is half English, half Amharic gets about 0.5.
    """
    weights: dict[str, int] = defaultdict(int)
    total = 0
    for lang, length in chunks:
        weights[lang] += length
        total += length
    known = {lang: weight for lang, weight in weights.items() if lang != UND and weight > 0}
    if not known:
        return _UNKNOWN
    lang = max(known, key=lambda code: (known[code], code))
    return Detection(lang, known[lang] / total)
