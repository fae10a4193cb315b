"""A compact character n-gram classifier for the languages that share a script.

Multinomial naive Bayes over character 1-5-grams inside words (scikit-learn's ``char_wb``), the
method of langid.py, trained on the training split of the shared data (``texts.py``). It also
says how *typical* a text is of the language it picked: the mean log-probability per n-gram,
as a z-score against held-back training text of that language. A text in a language the model
was never trained on (Asturian, Lingala) fits its nearest served language badly, so a low z-score
is one of the signals ``detector.py`` uses to answer ``und``.

The model ships with Polylex (``models/langid/``, about 4 MB, with its card): ``python -m
app.langid.build`` trains it from the data folder, and every install loads that file, so an
install without the data identifies languages exactly as the machine that built it. Its
log-probabilities are stored as 8-bit steps above each language's unseen-n-gram floor (most
n-grams were never seen in most languages, so most steps are 0 and compress away); training
applies the same rounding before calibration, so the model calibrated is the model shipped.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import random
import tempfile
import unicodedata
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import regex

from app.langid.texts import LabelledText

# Bump when the features, the training recipe or the file format change: old caches are ignored.
MODEL_VERSION = 11
# 1-5-grams over 300,000 n-grams: against 1-4 over 100,000 (version 7), short queries 0.895 -> 0.910
# and gettext paragraphs of unserved languages 0.61 -> 0.65 on a second draw of held-out text,
# for a file of 4 MB instead of 1.9 (README, Language identification: "Recipe variants").
MAX_N = 5
VOCABULARY_SIZE = 300_000
# Characters of training text per language (about 50 news sentences make 10,000).
TRAIN_CHARS = 150_000
CALIBRATION_TEXTS = 400
ALPHA = 0.01  # additive smoothing; small because the vocabulary is large
# A language's alphabet: the letters of its orthography (``orthographies``), and those that make at
# least this share of the letters of its training text; rarer ones are the foreign names of news
# (the Trần dynasty in German, "Søren" in French). Chosen on the tuning draw (bench/langid_variants.py --alphabets).
ALPHABET_MIN_SHARE = 1e-5

QUANTIZATION_LEVELS = 255  # log-probabilities are stored as uint8 steps above a language's floor

# Letters and combining marks (Indic vowel signs) make words; apostrophes stay inside words
# (Kinyarwanda "y'u", Hausa "ʼyan"); digits and punctuation say nothing of language.
_NON_LETTERS = regex.compile(r"[^\p{L}\p{M}'’ʼ]+")
# Combining diacritics on Latin letters (tone marks, accents, cedillas, dots below). Writers use
# them inconsistently: Yoruba with full tone marks, partial ones or none; Vietnamese typed
# without them; a PDF's text layer with decomposed or precomposed letters. Dropped, all of these
# give the same n-grams. On Cyrillic letters they are kept: they make letters that tell languages
# apart (Macedonian ѓ ќ, Russian й, Belarusian ў, Ukrainian ї); Indic, Ethiopic and Arabic marks
# live in their own blocks and spell the vowels.
_LATIN_DIACRITICS = regex.compile("(\\p{Script=Latin})[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff]+")


def normalize(text: str) -> str:
    """What the n-grams are taken from: compatibility forms folded, Latin diacritics dropped, lower case, letters only.

    NFKC also folds what PDF text layers are full of: Arabic presentation forms (``ﻗﺎﻧﻮﻥ`` ->
    ``قانون``), ligatures (``ﬁ``), full-width Latin.

    Example::

        >>> normalize("Ẹ̀tọ́ ọmọnìyàn, 12 ﬁles!")
        'eto omoniyan files'
    """
    decomposed = _LATIN_DIACRITICS.sub(r"\1", unicodedata.normalize("NFKD", text.lower()))
    return _NON_LETTERS.sub(" ", unicodedata.normalize("NFKC", decomposed)).strip()


_LETTER = regex.compile(r"\p{L}")


def letters(text: str) -> list[str]:
    """The letters of ``text`` as its alphabet is judged (``NgramModel.foreign_share``): compatibility forms
    folded and letters composed (NFKC, as ``normalize``: ligatures, full-width Latin), lower case, diacritics
    kept, marks that stay apart (Yoruba's tone over a dotted vowel) left out.

    Example::

        >>> letters("Ọ̀rọ̀ Zürich!")
        ['ọ', 'r', 'ọ', 'z', 'ü', 'r', 'i', 'c', 'h']
    """
    return _LETTER.findall(unicodedata.normalize("NFKC", text).lower())


def _ngram_total(text: str, max_n: int = MAX_N) -> int:
    """How many ``char_wb`` n-grams (1..max_n) sklearn's analyzer yields for a normalized text.

    A word padded with spaces to length W gives W-n+1 n-grams of each order n <= W.
    """
    total = 0
    for word in text.split():
        width = len(word) + 2
        top = min(max_n, width)
        total += top * width - top * (top - 1) // 2
    return total


class Pick(NamedTuple):
    """The classifier's choice for one text (``NgramModel.best``)."""

    lang: str
    posterior: float
    z: float
    runner_up: str = "und"
    runner_up_posterior: float = 0.0


@dataclass
class NgramModel:
    """A trained classifier.

    Attributes:
        classes: language codes, shape ``(L,)``.
        vocabulary: n-gram -> column.
        log_prob: ``(L, V)`` float32, log P(n-gram | language).
        unseen_log_prob: ``(L,)``, log-probability of an n-gram outside the vocabulary.
        fit_mean, fit_between, fit_within: ``(L,)``, mean of the per-n-gram log-probability on
            held-back text of each language, and its variance split into a part between texts
            and a part per n-gram: a text of ``n`` n-grams varies by ``between + within / n``.
        habits: ``"detector:lang:code"`` for each code a third-party detector gives to at least
            3 % of held-back text of ``lang`` (CLD3 calls much Yoruba ``az``): such an answer
            from that detector is no evidence against ``lang``.
        step: nats per quantization step of ``log_prob`` (``_quantize``).
        alphabets: label -> the letters its language writes (``alphabets``): what the n-grams cannot
            see, since ``normalize`` drops Latin diacritics.
    """

    classes: np.ndarray
    vocabulary: dict[str, int]
    log_prob: np.ndarray
    unseen_log_prob: np.ndarray
    fit_mean: np.ndarray
    fit_between: np.ndarray
    fit_within: np.ndarray
    habits: frozenset[str] = frozenset()
    step: float = 0.0
    alphabets: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        # The longest n-gram of the vocabulary is the order it was trained with (a file of an older
        # recipe keeps its own).
        self.max_n = max(map(len, self.vocabulary), default=MAX_N)
        self._vectorizer = CountVectorizer(
            analyzer="char_wb", ngram_range=(1, self.max_n), lowercase=False, vocabulary=self.vocabulary, dtype=np.float32
        )
        self._index = {lang: i for i, lang in enumerate(self.classes.tolist())}
        # (V, L) in row order: sparse @ dense would otherwise copy the transposed matrix per call.
        self._log_prob_by_ngram = np.ascontiguousarray(self.log_prob.T)

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self.classes.tolist())

    def is_habit(self, detector: str, lang: str, code: str) -> bool:
        """Whether ``detector`` often answers ``code`` for held-back text of ``lang``."""
        return f"{detector}:{lang}:{code}" in self.habits

    def foreign_share(self, text: str, labels: Iterable[str]) -> float:
        """The share of the letters of ``text`` that none of ``labels`` writes (0.0 where the model has no
        alphabet for any of them, or ``text`` no letters). Every letter counts, whatever its script: the
        detector passes only the letters of the text's own script (``scripts.only_script``)."""
        known = frozenset().union(*(self.alphabets.get(label, ()) for label in labels))
        found = letters(text) if known else []
        if not found:
            return 0.0
        return sum(letter not in known for letter in found) / len(found)

    def score(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Joint log-likelihood and per-n-gram fit of each text under each language.

        Returns:
            ``(loglik, fit, totals)``: ``loglik`` and ``fit`` are ``(len(texts), L)``; ``loglik``
            counts in-vocabulary n-grams only (for choosing), ``fit`` is the mean log-probability
            over all n-grams, unseen ones at the unseen-n-gram probability (for judging);
            ``totals`` ``(len(texts),)`` is the number of n-grams (0 for a text without letters).
        """
        normalized = [normalize(text) for text in texts]
        counts = self._vectorizer.transform(normalized)  # (n, V) sparse
        loglik = np.asarray(counts @ self._log_prob_by_ngram)  # (n, L)
        totals = np.array([_ngram_total(text, self.max_n) for text in normalized], dtype=np.float64)
        unseen = totals - np.asarray(counts.sum(axis=1)).ravel()
        fit = (loglik + unseen[:, None] * self.unseen_log_prob[None, :]) / np.maximum(totals, 1.0)[:, None]
        return loglik, fit, totals

    def best(self, texts: Sequence[str], candidates: Sequence[Sequence[str]]) -> list[Pick]:
        """For each text, the most likely language among its candidates, and the runner-up.

        ``posterior`` is P(lang | text) among the candidates the model knows (uniform prior); ``z``
        how typical the text is of ``lang`` (about N(0, 1) on held-out text of that language;
        strongly negative for other languages). ``Pick("und", 0.0, -inf)`` where the model knows
        none of the candidates or the text has no letters.
        """
        loglik, fit, totals = self.score(texts)
        answers = []
        for langs, ll, ft, total in zip(candidates, loglik, fit, totals):
            columns = [self._index[lang] for lang in langs if lang in self._index]
            if not columns or total == 0:
                answers.append(Pick("und", 0.0, -np.inf))
                continue
            scores = ll[columns]
            posterior = np.exp(scores - scores.max())
            posterior /= posterior.sum()
            order = np.argsort(-posterior, kind="stable")
            column = columns[order[0]]
            spread = np.sqrt(self.fit_between[column] + self.fit_within[column] / total)
            z = (ft[column] - self.fit_mean[column]) / spread
            second = (str(self.classes[columns[order[1]]]), float(posterior[order[1]])) if len(order) > 1 else ("und", 0.0)
            answers.append(Pick(str(self.classes[column]), float(posterior[order[0]]), float(z), *second))
        return answers

    def save(self, path: Path) -> None:
        """Write the model atomically, byte for byte the same for the same model (the card's sha256)."""
        ngrams = np.array(sorted(self.vocabulary, key=self.vocabulary.__getitem__))
        arrays = {
            "classes": self.classes.astype(str), "ngrams": ngrams,
            "codes": _quantize(self.log_prob, self.unseen_log_prob, self.step)[0],
            "unseen_log_prob": self.unseen_log_prob, "step": np.float64(self.step),
            "fit_mean": self.fit_mean, "fit_between": self.fit_between, "fit_within": self.fit_within,
            "habits": np.array(sorted(self.habits), dtype=str),
            "alphabets": np.array(["".join(sorted(self.alphabets.get(label, ()))) for label in self.classes.tolist()], dtype=str),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        # np.savez stamps each member with the current time; a fixed stamp keeps the file reproducible.
        with (
            tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp.npz", delete=False) as handle,
            zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        ):
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
                member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                archive.writestr(member, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        os.chmod(handle.name, 0o644)  # a temporary file is private; the model is not
        os.replace(handle.name, path)

    @classmethod
    def load(cls, path: Path) -> NgramModel:
        with np.load(path, allow_pickle=False) as data:
            vocabulary = {ngram: i for i, ngram in enumerate(data["ngrams"].tolist())}
            step = float(data["step"])
            return cls(
                classes=data["classes"], vocabulary=vocabulary,
                log_prob=_dequantize(data["codes"], data["unseen_log_prob"], step),
                unseen_log_prob=data["unseen_log_prob"], fit_mean=data["fit_mean"], fit_between=data["fit_between"],
                fit_within=data["fit_within"], habits=frozenset(data["habits"].tolist()), step=step,
                alphabets={label: frozenset(alphabet) for label, alphabet in zip(data["classes"].tolist(), data["alphabets"].tolist())},
            )


def _quantize(log_prob: np.ndarray, floor: np.ndarray, step: float | None = None) -> tuple[np.ndarray, float]:
    """``(V, L)`` uint8 steps of ``log_prob`` ``(L, V)`` above each language's ``floor``, and the step in nats.

    The floor is the probability of an n-gram a language never showed (every count of 0 is
    exactly there), so the unseen majority is code 0. With a 15-nat range a step is about 0.06
    nats: far below what separates languages over a text's dozens of n-grams.
    """
    above = log_prob.astype(np.float64) - floor[:, None]
    if step is None:
        step = float(above.max()) / QUANTIZATION_LEVELS or 1.0
    codes = np.clip(np.rint(above / step), 0, QUANTIZATION_LEVELS).astype(np.uint8)
    return np.ascontiguousarray(codes.T), step


def _dequantize(codes: np.ndarray, floor: np.ndarray, step: float) -> np.ndarray:
    """``(L, V)`` float32 log-probabilities from ``_quantize``'s codes (a transposed view, no copy)."""
    return (floor[None, :] + codes.astype(np.float64) * step).astype(np.float32).T


def _is_calibration(item: LabelledText) -> bool:
    # One training document in five is held back from fitting, to measure how well held-out
    # text of each language fits (the z-score's mean and spread).
    return hashlib.md5(f"calibrate/{item.source}/{item.document}".encode()).digest()[0] % 5 == 0


Predict = Callable[[Sequence[str]], list[tuple[str, float]]]


def train_model(
    texts: Iterable[LabelledText],
    languages: Iterable[str],
    *,
    seed: int = 0,
    detectors: Mapping[str, Predict] | None = None,
    secondary_sources: Iterable[str] = (),
    orthographies: Mapping[str, Iterable[str]] | None = None,
) -> NgramModel:
    """Fit the classifier on the training split of ``texts`` for the given languages.

    Args:
        texts: labelled texts; their ``test`` split is never read.
        languages: the classes (languages that share a script with another served language;
            the others are decided by their script alone).
        seed: order in which texts are drawn up to ``TRAIN_CHARS`` per language.
        detectors: third-party detectors (name -> batch predict) whose habits on held-back
            text are recorded in ``NgramModel.habits``.
        secondary_sources: sources of text of another kind than the rest (software messages beside
            news and law): a language draws their text only after all its other text, and it never
            chooses the ``VOCABULARY_SIZE`` n-grams, so that it cannot take n-grams from what the other
            languages' text needs ("Kifungu 12" was ``und`` when it did).
        orthographies: label -> letters its orthography writes, whether its text shows them or not
            (``alphabets``).

    Each language draws its texts with a generator of its own (seeded with ``seed`` and its code),
    so that adding a language does not redraw the others.
    """
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB

    wanted = set(languages)
    secondary = frozenset(secondary_sources)
    fit_texts: dict[str, list[tuple[bool, str]]] = defaultdict(list)
    held_back: dict[str, list[str]] = defaultdict(list)
    texts = list(texts)
    for item in texts:
        if item.lang in wanted and item.split == "train":
            if _is_calibration(item):
                held_back[item.lang].append(item.text)
            else:
                fit_texts[item.lang].append((item.source in secondary, item.text))
    documents, labels, choosing = [], [], []
    for lang in sorted(fit_texts):
        pool = fit_texts[lang]
        random.Random(f"{seed}/{lang}").shuffle(pool)
        pool.sort(key=lambda pair: pair[0])  # stable: the shuffled order within each part
        size = 0
        for is_secondary, text in pool:
            if size >= TRAIN_CHARS:
                break
            documents.append(normalize(text))
            labels.append(lang)
            choosing.append(not is_secondary)
            size += len(text)
    vectorizer = CountVectorizer(analyzer="char_wb", ngram_range=(1, MAX_N), lowercase=False, dtype=np.float32)
    rows = np.array(choosing)
    counts, ngrams = _most_frequent(vectorizer.fit_transform(documents), vectorizer.get_feature_names_out(), rows)
    bayes = MultinomialNB(alpha=ALPHA, fit_prior=False).fit(counts, labels)
    totals = bayes.feature_count_.sum(axis=1)
    floor = np.log(ALPHA / (totals + ALPHA * counts.shape[1]))
    codes, step = _quantize(bayes.feature_log_prob_, floor)
    model = NgramModel(
        classes=bayes.classes_.astype(str),
        vocabulary={str(ngram): i for i, ngram in enumerate(ngrams)},
        log_prob=_dequantize(codes, floor, step),
        unseen_log_prob=floor,
        step=step,
        fit_mean=np.zeros(len(bayes.classes_)),
        fit_between=np.ones(len(bayes.classes_)),
        fit_within=np.zeros(len(bayes.classes_)),
        alphabets=alphabets(texts, bayes.classes_.astype(str).tolist(), orthographies=orthographies),
    )
    _calibrate(model, held_back, seed)
    if detectors:
        model.habits = _habits(held_back, detectors)
    return model


def alphabets(
    texts: Iterable[LabelledText],
    languages: Iterable[str],
    *,
    min_share: float = ALPHABET_MIN_SHARE,
    orthographies: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, frozenset[str]]:
    """Each language's alphabet (``NgramModel.alphabets``): the letters (``letters``) of its
    ``orthographies`` entry and those making at least ``min_share`` of the letters of its training split."""
    wanted = set(languages)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in texts:
        if item.lang in wanted and item.split == "train":
            counts[item.lang].update(letters(item.text))
    found = {}
    for lang in sorted(wanted):
        least = min_share * sum(counts[lang].values())
        seen = {letter for letter, n in counts[lang].items() if n >= least}
        found[lang] = frozenset(seen.union((orthographies or {}).get(lang, ())))
    return found


def _most_frequent(counts, ngrams: np.ndarray, rows: np.ndarray):
    """The ``VOCABULARY_SIZE`` most frequent columns of ``counts`` in its ``rows`` (a mask), ties broken by
    the n-gram (alphabetical).

    Not ``CountVectorizer(max_features=...)``: it ranks with numpy's default sort, which is not stable
    and orders ties differently on CPUs with and without AVX-512, so the same data built different files.
    """
    totals = np.asarray(counts[rows].sum(axis=0, dtype=np.float64)).ravel()
    keep = np.sort(np.argsort(-totals, kind="stable")[:VOCABULARY_SIZE])  # columns are alphabetical already
    return counts[:, keep], ngrams[keep]


def _habits(held_back: dict[str, list[str]], detectors: Mapping[str, Predict], *, share: float = 0.03) -> frozenset[str]:
    habits = set()
    for lang, pool in held_back.items():
        pool = pool[:CALIBRATION_TEXTS]
        for name, predict in detectors.items():
            for code, count in Counter(code for code, _ in predict(pool)).items():
                if code != lang and count >= share * len(pool):
                    habits.add(f"{name}:{lang}:{code}")
    return frozenset(habits)


def _calibrate(model: NgramModel, held_back: dict[str, list[str]], seed: int) -> None:
    """Set ``fit_mean``, ``fit_between``, ``fit_within`` from held-back text the model picks correctly.

    A short text's fit is noisy because it has few n-grams (``within / n``); a long one's still
    varies with topic, names and register (``between``), which is why the spread of a long
    legal paragraph is not allowed to shrink to nothing. Both are the least-squares fit of the
    squared deviations on ``1`` and ``1/n``.
    """
    for column, lang in enumerate(model.classes.tolist()):
        pool = held_back.get(lang, [])
        random.Random(f"{seed}/calibrate/{lang}").shuffle(pool)
        pool = [text for text in pool if normalize(text)][:CALIBRATION_TEXTS]
        if len(pool) < 10:
            continue  # too little held back: keep mean 0 / variance 1, which accepts any fit
        loglik, fit, totals = model.score(pool)
        right = loglik.argmax(axis=1) == column
        values, sizes = fit[right, column], totals[right]
        mean = float(np.average(values, weights=sizes))
        between, within = _line_fit([1.0 / size for size in sizes.tolist()], ((values - mean) ** 2).tolist())
        model.fit_mean[column] = mean
        # At least 0.2 nats between texts: legal text is further from news and Wikipedia than
        # held-back news is, and a long chunk must not be refused for its register alone.
        model.fit_between[column] = max(float(between), 0.04)
        model.fit_within[column] = max(float(within), 0.0)


def _line_fit(x: list[float], y: list[float]) -> tuple[float, float]:
    """Least-squares ``(a, b)`` of ``y ≈ a + b·x``, in exactly rounded sums (``math.fsum``): LAPACK's
    ``lstsq`` gave results one unit in the last place apart on AVX-512 and AVX2 machines, so the same
    data built a different file (tests/test_langid_shipped.py). Not ``statistics.linear_regression``: its
    sums are ``fsum`` in Python 3.11 and ``math.sumprod`` (not exactly rounded) from 3.12, so the file would
    depend on the Python version instead."""
    n, sx, sy = len(x), math.fsum(x), math.fsum(y)
    sxx, sxy = math.fsum(v * v for v in x), math.fsum(u * v for u, v in zip(x, y))
    det = n * sxx - sx * sx
    if det <= 1e-12 * n * sxx:  # every text the same length: no slope to fit
        return sy / n, 0.0
    slope = (n * sxy - sx * sy) / det
    return (sy - slope * sx) / n, slope


def data_fingerprint(data: Path, sources: Iterable[str]) -> str:
    """Short hash of the data files the model is trained from (names and sizes) and MODEL_VERSION."""
    digest = hashlib.sha256(f"v{MODEL_VERSION}".encode())
    for name in sources:
        folder = data / name
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    digest.update(f"{path.relative_to(data)}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()[:16]
