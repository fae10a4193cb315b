"""The letters each language's orthography writes, from Hyperglot's database (build time only).

The classifier's alphabets (``ngram.NgramModel.alphabets``) start from the letters a language's
training text shows often enough; news and Tatoeba lines miss real letters of some orthographies
(French "ë" in "Noël", Dutch "ö" in "coöperatie", Hausa "ƴ", Turkish "û" in "mahkûm"), which
would make short queries with them ``und``. Hyperglot (Apache-2.0; its orthographies are reviewed
against CLDR, Omniglot and other sources) lists each orthography's base letters; those of the
primary and secondary orthographies are added (historical ones are not: Russian before 1918 is
not what a query in Russian writes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from app.langid.scripts import language_of
from corpora.languages import get_language

# Hyperglot files individual languages, not macrolanguages: the one our text is in.
_HYPERGLOT_CODES = {
    "az": "azj", "et": "ekk", "lv": "lvs", "ms": "zsm", "om": "gaz", "sq": "als", "sw": "swh",
    "uz": "uzn", "mn": "khk", "nb": "nor", "nn": "nor", "ber": "kab",
}
_STATUSES = ("primary", "secondary")


def orthography_letters(labels: Iterable[str]) -> dict[str, frozenset[str]]:
    """Classifier label -> the base letters of its language's orthographies, as ``ngram.letters`` writes
    them (NFKC, lower case); labels of languages Hyperglot does not have are left out.

    Example::

        >>> sorted(orthography_letters(["fr"])["fr"])[-4:]
        ['û', 'ü', 'ÿ', 'œ']
    """
    import hyperglot.language
    from hyperglot.language import Language
    from hyperglot.languages import Languages
    from hyperglot.orthography import Orthography

    from app.langid.ngram import letters
    from corpora.settings import get_settings

    # Hyperglot pickles its parsed database into ".hyperglot-cache" in the working directory (a
    # module constant, read when it loads): into the Polylex cache instead, never into a checkout.
    cache = get_settings().cache / "hyperglot"
    cache.mkdir(parents=True, exist_ok=True)
    hyperglot.language.LANGUAGE_CACHE_FILE = str(cache / f"languages-{hyperglot.__version__}.pickle")

    logging.getLogger("hyperglot").setLevel(logging.ERROR)  # it warns about every incomplete entry
    known = Languages()
    found = {}
    for label in labels:
        lang = language_of(label)
        code = _HYPERGLOT_CODES.get(lang) or get_language(lang).iso3
        if code not in known:
            continue
        chosen = [Orthography(entry) for entry in Language(code).get("orthographies", ()) if entry.get("status") in _STATUSES]
        found[label] = frozenset(letters(" ".join(char for ortho in chosen for char in ortho.base_chars)))
    return found
