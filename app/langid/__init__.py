"""Language identification for Polylex: one call, ``detect(text) -> (code, confidence)``.

Codes are ISO 639-1 where one exists, else ISO 639-3 (``nso``, ``bem``, ``fon``); ``und`` means
"not sure" and is the answer for empty text, digits, gibberish and languages Polylex does not
identify (``SERVED`` lists the 141 it identifies; Bosnian and Croatian text is answered with their
family, ``hbs``: ``ANSWERED_AS``). The models ship with Polylex, load on first
use and stay loaded.

Example::

    >>> from app.langid import detect, detect_batch, document_language
    >>> detect("Ministeri wa nje ya nchi amesema mkutano utafanyika kesho.")
    Detection(lang='sw', confidence=1.0)
    >>> detect("12 345")
    Detection(lang='und', confidence=0.0)
    >>> document_language([("am", 1200), ("en", 300), ("und", 80)])
    Detection(lang='am', confidence=0.759...)
"""

from __future__ import annotations

from app.langid.detector import (
    ANSWERED_AS,
    BACKENDS,
    FAMILIES,
    SERVED,
    UND,
    Detection,
    covers,
    detect,
    detect_batch,
    document_language,
)

__all__ = [
    "ANSWERED_AS", "BACKENDS", "FAMILIES", "SERVED", "UND", "Detection", "covers", "detect", "detect_batch", "document_language",
]
