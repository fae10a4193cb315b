"""The public detector: script rules, then an n-gram classifier checked by two broad detectors.

``backend="default"`` is the combination chosen by measurement (``bench/langid.py``):

1. The Unicode script of the text's letters narrows the choice (``scripts.SCRIPT_LANGUAGES``);
   a script of one served language (Khmer, Thai, Gujarati ...) decides alone, a script of none
   (Syriac; Bengali with Assamese letters, Cyrillic with early Cyrillic ones) gives ``und``. The
   steps below see only the letters of that script, and a short text without its quotations.
2. Among several candidates (Latin, Arabic, Cyrillic, Devanagari, Ethiopic, Hebrew, Tibetan,
   Han) the n-gram classifier that ships with Polylex (``shipped.py``) picks one; it knows every
   served language, and 34 unserved ones (``scripts.REJECT_LANGUAGES``: Interlingua, Asturian,
   Swiss German ... from Tatoeba; Friulian, Crimean Tatar, Limburgish, Maithili ... from
   Debian's translation catalogs; Lingua Franca Nova in Latin and in Cyrillic), and Hindi / Urdu
   typed in Latin letters (``scripts.REFUSED_FORMS``), learnt only so that their text is refused:
   picking one of them, or having one close behind, answers ``und``. A short text
   (under 100 letters: a query) whose pick is less than 0.9 sure of its language is ``und`` too.
3. It only knows served languages, so it is checked against CLD3 and fastText, which know
   about a hundred languages each. Both agree: the answer stands. One agrees: the text must
   also fit the language about as well as held-out text of it does (z-score), and clearly so
   if the other detector names a language we do not serve. Neither agrees: ``und`` if one that
   *could* have said our answer names, with some confidence, an unserved language (Haitian
   Creole, Corsican), else the z-score decides alone (Bemba, Fon, Twi are unknown to both
   detectors). An unserved code a detector habitually gives to held-back text of our answer's
   language (CLD3 calls much Yoruba ``az``, fastText much Oromo ``fi``) is no objection.
4. Close relatives the classifier cannot reliably tell apart (``_RELATIVES``: Bosnian /
   Croatian / Serbian, Malay / Indonesian, Sorbian ...) give their family (``hbs``) or ``und``
   unless the pick is clearly ahead; a few orthographic facts settle others (Cantonese
   characters; Sepedi's "tša" and Kirundi's "vy", unserved relatives read as Setswana and
   Kinyarwanda); and a short text with a letter its pick does not write, or a longer one with 2 %
   such letters, is ``und`` (Latin and Cyrillic: the n-grams see no diacritics).

The classifier is a file in the repository, not something built from the data folder, so an
install without the data answers exactly as one with it.

The other ``backend`` names give one third-party detector's raw answer, for comparison.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import NamedTuple

import regex

from app.langid import backends, ngram
from app.langid.scripts import (
    SCRIPT_LANGUAGES,
    SCRIPT_REJECTS,
    SERVED_LANGUAGES,
    class_label,
    dominant_script,
    language_of,
    only_script,
)
from app.langid.shipped import load_shipped

UND = backends.UND
BACKENDS = ("default", *backends.NAMES)

SERVED: frozenset[str] = frozenset(SERVED_LANGUAGES)
"""Every language the default detector serves. Each is answered with its own code, except those in
``ANSWERED_AS``."""
ANSWERED_AS: dict[str, str] = {"bs": "hbs", "hr": "hbs"}
"""Served languages whose text is always answered with another code: Bosnian and Croatian, which nothing
here tells apart, with their family, Serbo-Croatian (``FAMILIES``; see ``_decide``). Their held-out text
is right when it gets that code (``bench/langid.py``)."""
# The classifier's labels it knows only to refuse them: the unserved languages, and romanised Hindi/Urdu.
_REFUSED_LABELS = frozenset(label for labels in SCRIPT_REJECTS.values() for label in labels)

# Thresholds, chosen on held-out text of the shared data and on gettext catalogs of unserved
# languages (a different draw than bench/langid.py reports on); z-scores are in standard
# deviations of held-out text of the language (``ngram.NgramModel.best``).
_MIN_POSTERIOR = 0.5  # the classifier must prefer its language to all other candidates together
_MIN_Z_CONFIRMED = -2.5  # one detector agrees, none objects
_MIN_Z_DISPUTED = -1.0  # one detector agrees, the other says an unserved language
_MIN_Z_ALONE = -2.5  # neither detector agrees (or knows the language: Bemba, Fon, Twi ...)
_OTHER_CLD3 = 0.3  # CLD3 naming an unserved language this sure is an objection
_OTHER_FASTTEXT = 0.5  # the same for fastText
# Close relatives the classifier cannot always tell apart (the confusions of bench/langid.py):
# when the runner-up is a relative and the pick is not at least _MIN_POSTERIOR_RELATIVES sure,
# the answer is their family where ISO 639 has a code for it (Serbo-Croatian; Chinese, the
# macrolanguage, includes Cantonese), else ``und``: never a confident wrong code.
_RELATIVES: dict[frozenset[str], str] = {
    frozenset({"sr", "hr", "bs"}): "hbs",
    frozenset({"zh", "yue"}): "zh",
    frozenset({"ms", "id"}): UND,
    frozenset({"st", "tn"}): UND,
    frozenset({"nb", "nn"}): UND,
    frozenset({"hsb", "dsb"}): UND,
    frozenset({"kzj", "dtp"}): UND,
    frozenset({"ber", "kab"}): "ber",  # Tatoeba's "Berber" is mostly Kabyle; ber is the ISO 639 code of the Berber languages
    frozenset({"is", "fo"}): UND,
    frozenset({"bo", "dz"}): UND,
    frozenset({"ga", "gd"}): UND,
    frozenset({"ceb", "tl", "war"}): UND,
    frozenset({"rw", "ny"}): UND,
    frozenset({"zu", "xh", "nd", "ss"}): UND,
}
_MIN_POSTERIOR_RELATIVES = 0.9
# Naive Bayes is overconfident, the more so on short text: a query (under _SHORT letters) must
# beat its relative by far more to be told apart from it. With 1-5-grams (model version 8) the
# posteriors are more extreme still: 1 - 1e-5 left 3.2 % of low-resource queries wrong on the
# tuning draw, 1 - 1e-7 3.0 % (short accuracy 0.910 -> 0.904).
_SHORT = 100
_MIN_POSTERIOR_RELATIVES_SHORT = 0.9999999
# Between languages that are not listed relatives a pick needs only _MIN_POSTERIOR, and on short
# text that let narrow guesses through (Galician read as Spanish at 0.61, Czech as Serbo-Croatian,
# Danish as Bokmål): a short text must be this sure of its language (a family answer keeps
# _MIN_POSTERIOR). Chosen on the tuning draw (seed 1; bench/langid_variants.py --posteriors-short):
# 0.9 cut low-resource wrong answers from 3.0 % to 2.6 % for 0.0025 of short accuracy (0.904 ->
# 0.901; 0.95 left it at 0.900).
_MIN_POSTERIOR_SHORT = 0.9
# A short text whose runner-up is a refused language must be this sure of its pick (a longer one:
# _MIN_POSTERIOR_RELATIVES). Chosen on the tuning draw (bench/langid_variants.py --refused-short).
_MIN_POSTERIOR_OVER_REFUSED_SHORT = 0.9999999
# Northern Sotho (Sepedi) has no text in our data (NTREX's "nso" file is Sesotho, see
# corpora.ntrex) and reads as Setswana to the classifier. Its possessive concords "tša", "tše"
# (Setswana and Sesotho write "tsa", "tse") occur in none of the 3,994 Setswana and Sesotho lines
# of the data and in almost every Sepedi paragraph: with them, the answer is ``und``.
_SEPEDI = regex.compile(r"\btš[ae]\b", regex.IGNORECASE)
# Kirundi has no text here either and reads as Kinyarwanda (a legal text in Kirundi came out "rw" for
# 29 of its 30 articles). Kirundi writes "vy" where Kinyarwanda writes "by" (ivyo, vyose: ibyo,
# byose), its "or", "that" and "have" are canke, ico, -fise (cyangwa, icyo, -fite), and a court and
# the government are Sentare and Reta (urukiko, Leta): none of them occurs in the 3,160 Kinyarwanda
# texts of the data (NTREX, AfriQA; 358,000 characters). A Kirundi sentence without any of them
# ("Sentare" aside, the same words as Kinyarwanda) is still read as Kinyarwanda.
_KIRUNDI = regex.compile(r"vy|\b(?:canke|ico|\p{L}*fise|sentare|reta)\b", regex.IGNORECASE)
# The served language that an unserved relative without text of its own is read as -> its signs.
_READ_AS_RELATIVE: dict[str, regex.Pattern] = {"tn": _SEPEDI, "st": _SEPEDI, "rw": _KIRUNDI}
# The n-grams see Latin letters without their diacritics, and a short text has few n-grams to tell
# a language from its unserved neighbour: a query with a letter its pick does not write (Talossan
# "els brätslilor" read as Catalan, Swiss German "Er hät es Velo" as Hungarian, Old East Slavic
# "Хочєши ли ѣсти?" as Ukrainian) is ``und``.
# Latin and Cyrillic only: there the languages that share the script differ by their letters;
# syllabaries (Ethiopic) and Han have rare signs a language does write (Amharic queries lost).
# On the tuning draw (bench/langid_variants.py --alphabets, bench/results/langid_alphabets.json) it
# took unserved short text from 0.894 to 0.919 of ``und`` or right, and low-resource wrong short
# answers from 2.7 % to 2.3 %, for 0.0002 of served short queries (foreign names: "Trần" in German).
_ALPHABET_SCRIPTS = frozenset({"Latin", "Cyrillic"})
# A longer text may name anyone ("Søren Kierkegaard" in a French paragraph), but a language whose
# own letters are not its pick's writes them all through: Friulian's â ê î ô û in Italian, Crimean
# Tatar's q ñ in Turkish. At this share of its letters or more, a text of _SHORT letters or more is
# ``und`` too. Chosen on the tuning draw (bench/langid_variants.py --alphabet-paragraph): at 1 % a
# paragraph dense with foreign names (Erdoğan and his IPA, Vietnamese names) was lost, 5 in 10,000;
# at 2 % none, and a court's chunk must name its Nguyễn Văn Thành very often to reach it.
_FOREIGN_SHARE = 0.02
# Written Cantonese has characters Standard Written Chinese does not use (嘅 係 唔 冇 ...): one of
# them is in 83 % of the Cantonese lines of NTREX and Tatoeba and in 0.3 % of the Chinese ones.
# Without one, a text is Standard Written Chinese as far as anyone can tell: ``zh`` (the
# macrolanguage, which includes Cantonese), however the classifier leaned.
_CANTONESE = frozenset("嘅係唔冇咗啲佢哋嗰咁喺乜嘢睇俾攞畀諗啱")
FAMILIES: frozenset[str] = frozenset(code for code in _RELATIVES.values() if code != UND and code not in SERVED_LANGUAGES)
"""Family codes the default detector may answer besides ``SERVED`` (``hbs``: Serbo-Croatian)."""
_SERBO_CROATIAN = {"sr", "hr", "bs", "sh", "hbs"}
# What a third-party detector's answer agrees with: neither tells Bokmål from Nynorsk, nor
# Bosnian, Croatian and Serbian apart; fastText labels Egyptian Arabic apart.
_SAME = {
    "nb": {"nb", "nn"}, "nn": {"nb", "nn"}, "arz": {"ar"},
    **{code: _SERBO_CROATIAN for code in _SERBO_CROATIAN},
}


# A word of letters (with marks and inner apostrophes), and an acronym: an upper-case word of at
# most 6 letters (BGB, OHADA, EU). A text made only of acronyms ("§ 12 BGB", "EU / OHADA") names a
# statute or a body, not a language: among the languages of a shared script it is ``und``,
# whatever the n-grams would lean to.
# Only up to three words: a clause typed in capitals ("THE TENANT SHALL PAY RENT") is still a language.
_WORD = regex.compile(r"[\p{L}\p{M}]+(?:['’ʼ][\p{L}\p{M}]+)*")
_ACRONYM_MAX = 6
_ACRONYMS_AT_MOST = 3


def _only_acronyms(text: str) -> bool:
    words = _WORD.findall(text)
    return 0 < len(words) <= _ACRONYMS_AT_MOST and all(word.isupper() and len(word) <= _ACRONYM_MAX for word in words)


class Detection(NamedTuple):
    """A language code and how sure the detector is (0..1; 0.0 with ``und`` for no answer)."""

    lang: str
    confidence: float


_UNKNOWN = Detection(UND, 0.0)


def detect(text: str, *, backend: str = "default") -> Detection:
    """Language of ``text``.

    Args:
        text: any length; only the first few thousand characters are read.
        backend: ``"default"`` (script rules + n-gram classifier + detectors; answers only codes
            in ``SERVED``) or one of the third-party detectors in ``BACKENDS`` (raw answer).

    Returns:
        ``Detection(lang, confidence)``, which unpacks as ``(code, confidence)``.
    """
    return detect_batch([text], backend=backend)[0]


def detect_batch(texts: Sequence[str], *, backend: str = "default") -> list[Detection]:
    """``[detect(t) for t in texts]``, with one model call per detector for the whole batch."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown language-ID backend {backend!r}; valid: {list(BACKENDS)}")
    answers = [_UNKNOWN] * len(texts)
    if backend != "default":
        todo = [i for i, text in enumerate(texts) if dominant_script(text) is not None]
        for i, (lang, confidence) in zip(todo, backends.get_backend(backend).predict([texts[i] for i in todo])):
            answers[i] = Detection(lang, confidence)
        return answers
    narrowed = [narrow(text) for text in texts]
    todo = [i for i, n in enumerate(narrowed) if n.answer is None]
    for i, n in enumerate(narrowed):
        if n.answer is not None:
            answers[i] = n.answer
    if todo:
        decided = _decide(load_shipped(), [narrowed[i].text for i in todo], [narrowed[i].candidates for i in todo])
        for i, answer in zip(todo, decided):
            answers[i] = answer
    # Judged without its quotations and found too short to tell: the quoted words were the same
    # language after all ("kan lære immunsystemet å «se»"), so the whole text decides. (An answer
    # refused for a letter outside its pick's alphabet is refused again: the letter is still there.)
    again = [i for i in todo if narrowed[i].whole is not None and answers[i].lang == UND]
    if again:
        decided = _decide(load_shipped(), [narrowed[i].whole for i in again], [narrowed[i].candidates for i in again])
        for i, answer in zip(again, decided):
            answers[i] = answer
    return answers


class Narrowed(NamedTuple):
    """Step 1 for one text: the script's own answer, or what is left for the statistical detectors."""

    answer: Detection | None  # decided by the script alone (a language, or ``und``); None: see below
    text: str  # the letters of the text's script only (a short text: outside its quotations, see below)
    candidates: tuple[str, ...]  # the classifier's labels to choose among (served and reject languages)
    whole: str | None = None  # ``text`` with the quotations ``text`` set aside; None where none were


def narrow(text: str) -> Narrowed:
    """What the Unicode script decides about ``text`` before any classifier (step 1 of the module doc).

    Used by ``detect_batch`` and by ``bench/langid_variants.py``, which replays the later steps per variant.
    """
    script = dominant_script(text)
    candidates = SCRIPT_LANGUAGES.get(script or "", ())
    if not candidates or (len(candidates) > 1 and _only_acronyms(text)):
        # a script of one language still tells it ("ΑΡΘΡΟ 1"); acronyms in a shared one do not
        return Narrowed(_UNKNOWN, "", ())
    if len(candidates) == 1:
        return Narrowed(Detection(candidates[0], 1.0), "", ())
    # The script has narrowed the choice: letters of other scripts (a Latin "DEMO" in an Arabic
    # title, an English term in Hindi) can only mislead the statistical detectors.
    labels = (*(class_label(lang, script) for lang in candidates), *SCRIPT_REJECTS.get(script, ()))
    unquoted = without_quotations(text)
    whole = only_script(text, script)
    if unquoted == text:
        return Narrowed(None, whole, labels)
    return Narrowed(None, only_script(unquoted, script), labels, whole=whole)


# Text between quotation marks, of the kinds legal texts and queries use (« », » «, „ “, “ ”, ” ”,
# " ", ‹ ›, 「 」, 『 』; not single quotes, which are apostrophes as often): a quoted word is the
# one most likely to be in another language ("Що означає слово «объявление» у договорі?"). A
# straight quote opens and closes only beside a non-letter, non-digit: after a letter it is an
# abbreviation mark (Hebrew תשל"ג, בע"מ), after a digit an inch.
_QUOTATION = regex.compile(
    r'«[^«»]*»|»[^«»]*«|„[^„“”]*[“”]|“[^“”]*”|”[^“”]*”|(?<![\p{L}\p{N}])"[^"]*"(?![\p{L}\p{N}])|‹[^‹›]*›|「[^「」]*」|『[^『』]*』'
)


def without_quotations(text: str) -> str:
    """A short ``text`` without its quotations, when most of its letters lie outside them; else ``text``.

    A short question about a foreign term is judged by its own words: the seven Ukrainian words of
    "Що означає слово «объявление» у договорі оренди?" lost to the n-grams of one Russian word
    (``ru`` at 0.99998). A text made mostly of quotations keeps them: they are then its language.
    So does a text of ``_SHORT`` letters or more, where one quoted word cannot outweigh the rest:
    setting quotations aside there too cost 0.001 of paragraph accuracy (``bench/langid.py``: the
    quoted speech of news paragraphs is their own language, and the evidence it carried was lost).
    Where what is left is too little to tell (``und``), ``detect_batch`` judges the whole text.
    """
    # Counting stops at _SHORT letters: narrow() calls this for every text, whole documents included.
    letters = sum(1 for _ in islice(filter(str.isalpha, text), _SHORT))
    if letters >= _SHORT:
        return text
    outside = _QUOTATION.sub(" ", text)
    if outside == text:
        return text
    return outside if 2 * sum(ch.isalpha() for ch in outside) > letters else text


# The languages each family or macrolanguage answer includes: the groups of _RELATIVES with a code
# (``und`` is a refusal, no family), and what ISO 639-3 adds (Chinese includes Wu and Cantonese).
# Built once: covers() is asked for every candidate label of every text whose answer would stand.
_COVERED: dict[str, frozenset[str]] = {
    family: frozenset().union(*(group for group, code in _RELATIVES.items() if code == family))
    for family in set(_RELATIVES.values()) - {UND}
}
_COVERED["zh"] = _COVERED["zh"] | {"wuu"}


def covers(answer: str, lang: str) -> bool:
    """Whether ``answer`` is right for text in ``lang``: the same code, or a family that includes it (``hbs`` for ``hr``)."""
    return answer == lang or lang in _COVERED.get(answer, ())


def _family(lang: str, other: str) -> str | None:
    """The family answer for two close relatives (``und`` where ISO has no code), else ``None``."""
    for members, family in _RELATIVES.items():
        if lang in members and other in members:
            return family
    return None


def _unserved(code: str) -> bool:
    """A language a detector named that Polylex does not serve (so not ``und``, not a served one)."""
    return code != UND and code not in SERVED and code not in _SAME and code not in FAMILIES


def _decide(
    model: ngram.NgramModel, texts: list[str], candidates: list[tuple[str, ...]]
) -> list[Detection]:
    picks = model.best(texts, candidates)
    cld3, fasttext = backends.get_backend("cld3"), backends.get_backend("fasttext")
    others = zip(cld3.predict(texts), fasttext.predict(texts))
    answers = []
    for text, labels, (lang, posterior, z, runner_up, runner_up_posterior), ((by_cld3, p_cld3), (by_fasttext, p_fasttext)) in zip(
        texts, candidates, picks, others
    ):
        label = lang  # the classifier's label ("sr@Latin"): the detectors' habits are recorded per label
        refused_runner_up = runner_up in _REFUSED_LABELS
        lang, runner_up = language_of(label), language_of(runner_up)
        short = sum(ch.isalpha() for ch in text) < _SHORT
        relatives_bar = _MIN_POSTERIOR_RELATIVES_SHORT if short else _MIN_POSTERIOR_RELATIVES
        refused_bar = _MIN_POSTERIOR_OVER_REFUSED_SHORT if short else _MIN_POSTERIOR_RELATIVES
        if label in _REFUSED_LABELS or (refused_runner_up and posterior < refused_bar):
            answers.append(_UNKNOWN)  # an unserved language, or too near one to tell
            continue
        family = _family(lang, runner_up)
        grouped = family is not None and posterior < relatives_bar
        if grouped:
            lang, posterior = family, posterior + runner_up_posterior
        elif label in ANSWERED_AS or (label == "sr@Latin" and lang not in (by_cld3, by_fasttext)):
            # Bosnian, Croatian and Serbian in Latin script: one standard language in three norms.
            # Nothing here tells Bosnian from Croatian: of 100 held-out Bosnian paragraphs the
            # classifier read 21 as Croatian even when a detector had to agree, and CLD3 and
            # fastText are no better (CLD3 names Bosnian for 42 of 100 Croatian paragraphs, fastText
            # Croatian for 61 of 100 Bosnian ones). The evidence does not allow the individual code,
            # so the answer is always Serbo-Croatian (bench/langid.py: right-or-family per language).
            # Serbian in Latin script writes ekavian forms (mleko, vreme) the others do not: its own
            # code stands where a detector names it too.
            lang = ANSWERED_AS.get(label, "hbs")
        elif by_cld3 == by_fasttext and by_cld3 != lang and lang in cld3.languages and lang in fasttext.languages:
            # Both detectors know our language and name the same close relative instead: the family.
            lang = _family(lang, by_cld3) or lang
        if lang == "yue" and not _CANTONESE.intersection(text):
            lang, posterior = "zh", posterior + (runner_up_posterior if runner_up == "zh" else 0.0)
        # A family answer for a pick and its relative sums two of the family's members only (Serbo-Croatian
        # has three): the short-text bar is for one language's posterior.
        least = _MIN_POSTERIOR_SHORT if short and not grouped else _MIN_POSTERIOR
        if lang == UND or posterior < least or (lang in _READ_AS_RELATIVE and _READ_AS_RELATIVE[lang].search(text)) or _foreign(
            model, text, short=short, writers=[c for c in labels if covers(lang, language_of(c))] or [label]
        ):
            answers.append(_UNKNOWN)
            continue
        agree = [lang in _SAME.get(by_cld3, {by_cld3}), lang in _SAME.get(by_fasttext, {by_fasttext})]
        # A detector's usual answer for this language (CLD3 says "az" for much Yoruba) objects to nothing.
        cld3_objects = _unserved(by_cld3) and not model.is_habit("cld3", label, by_cld3)
        fasttext_objects = _unserved(by_fasttext) and not model.is_habit("fasttext", label, by_fasttext)
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
        answers.append(Detection(lang, min(posterior, 1.0)) if ok else _UNKNOWN)
    return answers


def _foreign(model: ngram.NgramModel, text: str, *, short: bool, writers: list[str]) -> bool:
    """Whether ``text`` has letters none of ``writers`` writes (a family answer, hbs, stands for all its
    members), in a short text at all, in a longer one at ``_FOREIGN_SHARE`` of its letters. Asked last, only
    of answers that would otherwise stand: it reads the text's letters again."""
    if dominant_script(text) not in _ALPHABET_SCRIPTS:
        return False
    share = model.foreign_share(text, writers)
    return share > 0 if short else share >= _FOREIGN_SHARE


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
