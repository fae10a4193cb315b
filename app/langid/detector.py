"""The public detector: script rules, then an n-gram classifier checked by two broad detectors.

``backend="default"`` is the combination chosen by measurement (``bench/langid.py``):

1. The Unicode script of the text's letters narrows the choice (``scripts.SCRIPT_LANGUAGES``);
   a script of one served language (Khmer, Thai, Gujarati ...) decides alone, a script of none
   (Hebrew, Tibetan) gives ``und``. The steps below see only the letters of that script.
2. Among several candidates (Latin, Arabic, Cyrillic, Devanagari, Ethiopic) the n-gram
   classifier trained on our data (``ngram.py``) picks one; it knows every served language.
3. It only knows served languages, so it is checked against CLD3 and fastText, which know
   about a hundred languages each. Both agree: the answer stands. One agrees: the text must
   also fit the language about as well as held-out text of it does (z-score), and clearly so
   if the other detector names a language we do not serve. Neither agrees: ``und`` if one that
   *could* have said our answer names, with some confidence, an unserved language (Polish,
   Catalan), else the z-score decides alone (Bemba, Fon, Twi are unknown to both detectors).
   An unserved code a detector habitually gives to held-back text of our answer's language
   (CLD3 calls much Yoruba ``az``, fastText much Oromo ``fi``) is no objection.

Without the shared data (a fresh clone) there is no n-gram classifier: the Latin, Arabic,
Cyrillic and Devanagari candidates are left to CLD3 alone, and the languages it does not know
are answered ``und`` (``supported_languages()`` says which remain).

The other ``backend`` names give one third-party detector's raw answer, for comparison.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from app.langid import backends, ngram
from app.langid.scripts import SCRIPT_LANGUAGES, dominant_script, only_script
from corpora.settings import Settings, get_settings

UND = backends.UND
BACKENDS = ("default", *backends.NAMES)

SERVED: frozenset[str] = frozenset(lang for langs in SCRIPT_LANGUAGES.values() for lang in langs)
"""Every code the default detector may answer besides ``und`` (with the shared data present)."""

# Thresholds, chosen on held-out text of the shared data and on gettext catalogs of unserved
# languages (a different draw than bench/langid.py reports on); z-scores are in standard
# deviations of held-out text of the language (``ngram.NgramModel.best``).
_MIN_POSTERIOR = 0.5  # the classifier must prefer its language to all other candidates together
_MIN_Z_CONFIRMED = -2.5  # one detector agrees, none objects
_MIN_Z_DISPUTED = -1.0  # one detector agrees, the other says an unserved language
_MIN_Z_ALONE = -2.5  # neither detector agrees (or knows the language: Bemba, Fon, Twi ...)
_OTHER_CLD3 = 0.3  # CLD3 naming an unserved language this sure is an objection
_OTHER_FASTTEXT = 0.5  # the same for fastText
# Neither detector can tell Bokmål from Nynorsk; fastText labels Egyptian Arabic apart.
_SAME = {"nb": {"nb", "nn"}, "nn": {"nb", "nn"}, "arz": {"ar"}}
# Without the n-gram classifier: the CLD3 answer must be at least this sure.
_MIN_CLD3_ALONE = 0.5
# Letters and words of Tigrinya that Amharic does not use (Amharic writes አ, not ኣ), for
# Ethiopic text when the classifier is missing.
_TIGRINYA_MARKS = ("ኣ", "ቐ", "ቑ", "ቒ", "ቓ", "ቔ", "ቕ", "ቖ", " ናይ ", " እዩ")


class Detection(NamedTuple):
    """A language code and how sure the detector is (0..1; 0.0 with ``und`` for no answer)."""

    lang: str
    confidence: float


_UNKNOWN = Detection(UND, 0.0)


def _model(settings: Settings | None) -> ngram.NgramModel | None:
    settings = settings or get_settings()
    multi = sorted({lang for langs in SCRIPT_LANGUAGES.values() if len(langs) > 1 for lang in langs})
    detectors = {name: backends.get_backend(name).predict for name in ("cld3", "fasttext")}
    return ngram.load_model(settings.data, settings.cache, multi, detectors)


def supported_languages(*, settings: Settings | None = None) -> frozenset[str]:
    """Codes the default detector can answer with the data at hand (loads the classifier)."""
    model = _model(settings)
    known = model.languages if model is not None else backends.get_backend("cld3").languages | {"am", "ti"}
    return frozenset(lang for langs in SCRIPT_LANGUAGES.values() for lang in langs if len(langs) == 1 or lang in known)


def detect(text: str, *, backend: str = "default", settings: Settings | None = None) -> Detection:
    """Language of ``text``.

    Args:
        text: any length; only the first few thousand characters are read.
        backend: ``"default"`` (script rules + n-gram classifier + detectors; answers only codes
            in ``SERVED``) or one of the third-party detectors in ``BACKENDS`` (raw answer).
        settings: where the data and cache folders are (default: ``get_settings()``).

    Returns:
        ``Detection(lang, confidence)``, which unpacks as ``(code, confidence)``.
    """
    return detect_batch([text], backend=backend, settings=settings)[0]


def detect_batch(texts: Sequence[str], *, backend: str = "default", settings: Settings | None = None) -> list[Detection]:
    """``[detect(t) for t in texts]``, with one model call per detector for the whole batch."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown language-ID backend {backend!r}; valid: {list(BACKENDS)}")
    scripts = [dominant_script(text) for text in texts]
    answers = [_UNKNOWN] * len(texts)
    if backend != "default":
        todo = [i for i, script in enumerate(scripts) if script is not None]
        for i, (lang, confidence) in zip(todo, backends.get_backend(backend).predict([texts[i] for i in todo])):
            answers[i] = Detection(lang, confidence)
        return answers
    todo: list[tuple[int, tuple[str, ...]]] = []
    for i, script in enumerate(scripts):
        candidates = SCRIPT_LANGUAGES.get(script or "", ())
        if len(candidates) == 1:
            answers[i] = Detection(candidates[0], 1.0)
        elif candidates:
            todo.append((i, candidates))
    if todo:
        model = _model(settings)
        decide = _decide_with_model if model is not None else _decide_without_model
        # The script has narrowed the choice: letters of other scripts (a Latin "DEMO" in an Arabic
        # title, an English term in Hindi) can only mislead the statistical detectors.
        within_script = [only_script(texts[i], scripts[i]) for i, _ in todo]
        for (i, _), answer in zip(todo, decide(model, within_script, [c for _, c in todo])):
            answers[i] = answer
    return answers


def _unserved(code: str) -> bool:
    """A language a detector named that Polylex does not serve (so not ``und``, not a served one)."""
    return code != UND and code not in SERVED and code not in _SAME


def _decide_with_model(
    model: ngram.NgramModel, texts: list[str], candidates: list[tuple[str, ...]]
) -> list[Detection]:
    picks = model.best(texts, candidates)
    cld3, fasttext = backends.get_backend("cld3"), backends.get_backend("fasttext")
    others = zip(cld3.predict(texts), fasttext.predict(texts))
    answers = []
    for (lang, posterior, z), ((by_cld3, p_cld3), (by_fasttext, p_fasttext)) in zip(picks, others):
        if lang == UND or posterior < _MIN_POSTERIOR:
            answers.append(_UNKNOWN)
            continue
        agree = [lang in _SAME.get(by_cld3, {by_cld3}), lang in _SAME.get(by_fasttext, {by_fasttext})]
        # A detector's usual answer for this language (CLD3 says "az" for much Yoruba) objects to nothing.
        cld3_objects = _unserved(by_cld3) and not model.is_habit("cld3", lang, by_cld3)
        fasttext_objects = _unserved(by_fasttext) and not model.is_habit("fasttext", lang, by_fasttext)
        objection = (
            (lang in cld3.languages and cld3_objects and p_cld3 >= _OTHER_CLD3)
            or (lang in fasttext.languages and fasttext_objects and p_fasttext >= _OTHER_FASTTEXT)
            or (by_cld3 == by_fasttext and cld3_objects and fasttext_objects and min(p_cld3, p_fasttext) >= _OTHER_FASTTEXT)
        )
        if all(agree):
            ok = True  # three independent models agree: even an untypical text (a legal one) stands
        elif any(agree):
            ok = z >= (_MIN_Z_DISPUTED if objection else _MIN_Z_CONFIRMED)
        else:
            ok = not objection and z >= _MIN_Z_ALONE
        answers.append(Detection(lang, posterior) if ok else _UNKNOWN)
    return answers


def _decide_without_model(_: None, texts: list[str], candidates: list[tuple[str, ...]]) -> list[Detection]:
    answers = []
    for text, langs, (lang, confidence) in zip(texts, candidates, backends.get_backend("cld3").predict(texts)):
        if "am" in langs:  # Ethiopic: CLD3 knows Amharic only
            tigrinya = any(mark in f" {text} " for mark in _TIGRINYA_MARKS)
            answers.append(Detection("ti" if tigrinya else "am", 0.9))
        elif lang in langs and confidence >= _MIN_CLD3_ALONE:
            answers.append(Detection(lang, confidence))
        else:
            answers.append(_UNKNOWN)
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
