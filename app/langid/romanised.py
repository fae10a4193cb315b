"""Hindi and Urdu in Latin script, as people type them: text for the classifier to learn to refuse.

Romanised Hindustani ("adalat ne appeal khaarij kar di aur ...") is common in queries and informal
documents, and it is one language in two standards: nothing in Latin letters tells Hindi from Urdu.
No data set here has any, and without a class of its own the classifier read it as the Latin-script
language nearest in letters: a quarter to two fifths of romanised Hindi sentences came out Oromo,
Fula, Estonian, Finnish or Somali, each with full confidence. So the classifier learns a class for
it, ``hi@Latin``, from the Hindi of the training split written the way people type it, and a pick
of that class is ``und`` (``scripts.REFUSED_FORMS``).

The romanisation is a rule, not a transliteration standard: indic_transliteration's IAST, then the
habits of informal typing (no diacritics, "sh" and "ch", the inherent vowel dropped at the end of a
word and between consonants where Hindi drops it: *adhikāra* -> *adhikar*, *samajhanā* -> *samajhna*),
with long vowels doubled (*aadmi*, *ladkee*) in half the documents and not in the other half, as
people differ. Used only to build the model (``python -m app.langid.build``) and to measure it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import replace

import regex

from app.langid.texts import LabelledText

LABEL = "hi@Latin"
"""The classifier's label for romanised Hindi and Urdu (a refused form of a served language)."""

_DEVANAGARI = regex.compile(r"\p{Devanagari}")
_VOWEL = "aeiouāīū"
# IAST letters -> how they are typed; long vowels per style (doubled or not) further below. "ṛ" is
# the vowel ऋ (rishi), "~" the candrabindu.
_TYPED = str.maketrans({"ṣ": "sh", "ś": "sh", "ṭ": "t", "ḍ": "d", "ṇ": "n", "ñ": "n", "ṅ": "n", "ḥ": "h",
                        "ṃ": "n", "ṁ": "n", "~": "n", "ṛ": "ri", "ṝ": "ri", "ḷ": "l", "ġ": "gh", "|": ".", "‖": "."})
# The schwa Hindi does not pronounce: at the end of a word of more than one syllable, and in a
# vowel-consonant-a-consonant-vowel run (kamalā -> kamla is right, most others too).
_CONSONANT = rf"(?:[kgcjṭḍtdpb]h|[^{_VOWEL}\W])"  # IAST writes the aspirates in two letters
_FINAL_SCHWA = regex.compile(rf"(?<=\p{{L}}{_CONSONANT})a\b")
_MEDIAL_SCHWA = regex.compile(rf"(?<=[{_VOWEL}]{_CONSONANT})a(?={_CONSONANT}[{_VOWEL}])")


def _drop_schwas(word: str) -> str:
    """Hindi's schwa deletion, from the right: once one is dropped, the one before it has a consonant
    cluster after it and stays (samajhanā -> samajhnā, not samjhnā)."""
    word = _FINAL_SCHWA.sub("", word)
    while found := list(_MEDIAL_SCHWA.finditer(word)):
        word = word[: found[-1].start()] + word[found[-1].end() :]
    return word


def _styled(text: str, *, doubled: bool) -> str:
    """Long vowels as typed: doubled inside a word in one style (``aadmi``), single in the other."""
    if doubled:
        text = regex.sub(r"[āīū](?=\p{L})", lambda m: {"ā": "aa", "ī": "ee", "ū": "oo"}[m.group()], text)
    return text.translate(str.maketrans({"ā": "a", "ī": "i", "ū": "u"}))


def romanise(text: str, *, doubled: bool = False) -> str:
    """``text`` (Devanagari Hindi) as it would be typed in Latin letters (module doc)."""
    from indic_transliteration import sanscript  # a build-time dependency (requirements-dev.txt)

    iast = sanscript.transliterate(text, sanscript.DEVANAGARI, sanscript.IAST).lower()
    # The flap ड़ is "r̤" here, typed "d" (ladki, padhna); then drop what IAST marks that a keyboard
    # does not (k͟h and the other nukta letters): the combining marks NFC leaves uncomposed.
    iast = unicodedata.normalize("NFC", iast.replace("r\u0324", "d"))
    iast = "".join(ch for ch in iast if not unicodedata.combining(ch))
    iast = regex.sub(r"\bmeṃ\b", "mein", iast)  # में: the one common word typed otherwise
    iast = regex.sub(r"\p{L}+", lambda m: _drop_schwas(m.group()), iast)
    typed = regex.sub(r"ch?", lambda m: "chh" if m.group() == "ch" else "ch", _styled(iast, doubled=doubled))
    return typed.translate(_TYPED)


def romanised_texts(texts: Iterable[LabelledText]) -> Iterator[LabelledText]:
    """The Devanagari Hindi of ``texts`` romanised, labelled ``LABEL``, each in its document (so in its
    split); the style (long vowels doubled or not) is chosen per document."""
    for item in texts:
        if item.lang == "hi" and _DEVANAGARI.search(item.text):
            doubled = hashlib.md5(f"{item.source}/{item.document}".encode()).digest()[0] % 2 == 1
            yield replace(item, lang=LABEL, text=romanise(item.text, doubled=doubled))
