"""Cross-lingual search over the store: dense by default, or hybrid with FTS5/BM25.

Dense: the query is encoded with the model's query prompt, FAISS (or exact scoring of a small
filtered set) finds the nearest chunks, and their rows come from SQLite in one query.

Hybrid: the dense ranking and a keyword (BM25) ranking over the same filters are fused by
reciprocal rank fusion, ``score = sum(1 / (RRF_K + rank))``. The keyword side looks only for the
query's *language-neutral* terms (:func:`reference_terms`: numbers, written in any of the digit
systems documents use, and acronyms), because ordinary words match only passages in the
query's own language: fusing them pushed that language to the top (measured with ``python -m app
evaluate``: on XQuAD-R multilingual mAP fell from 0.46 to 0.36 and the languages among the first
ten results from 7.1 to 5.1). A query that is not mostly such terms is answered by dense search
alone; one that is ("Article 12", "§ 3") lifts that provision in every language. A phrase the user
puts in double quotes is the exception: it is a request for those exact words, so passages holding
it are required on the keyword side and fused whatever the rest of the query is. Each hit says which
of these terms it holds (``SearchHit.matched``), for the UI to show.

Keyword matching (both stores) is :mod:`app.keyword_text`: folded case and marks, every script
segmented, so "12" is found in 第12条 and "omo" in Ọmọ.

Example::

    >>> response = search(store, encoder, "Wer wählt den Bundesrat?", k=3)
    >>> response.query_lang, [(h.file, h.page, h.heading, h.lang) for h in response.results]
    ('de', [('constitution-en.pdf', 51, 'Art. 175 Composition and election', 'en'), ...])
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal, get_args

import numpy as np
import regex

from app.errors import NotInLibrary
from app.ingest import model_id
from app.keyword_text import HAN_KANA, SOUTHEAST_ASIAN, matched_terms, quoted_phrases, unquoted
from app.langid import detect
from app.store_protocol import StoreBackend
from trainer.encoder import Encoder

Mode = Literal["dense", "hybrid"]
MODES: tuple[str, ...] = get_args(Mode)
RRF_K = 60
"""The constant of Cormack et al. (2009); it damps the weight of the very first ranks."""
HYBRID_DEPTH = 100
"""How deep each ranking is read before fusion (at least ``5 * k``)."""
Keywords = Literal["references", "references-flat", "phrases-first", "phrases-fused", "all"]
"""What the keyword side of hybrid search looks for, and how much it counts. ``references`` (the
default, the measured best): the query's language-neutral terms, fused only when the query is mostly
a reference (:func:`reference_weight`); quoted phrases change no rank (each hit says whether it holds
them; ``search(..., phrases_only=True)`` keeps only the passages that do). Kept to measure against
(``python -m app evaluate --keywords``): ``references-flat``, the same terms fused for every query;
``phrases-first``, passages holding the quoted phrases placed first within their language
(:func:`place_within_languages`); ``phrases-fused``, quoted phrases fused by reciprocal rank like the
references; ``all``, every word of the query fused (the first version)."""
PHRASE_HOLDERS = 1000
"""How many passages holding the quoted phrases ``phrases_only`` ranks (by meaning) at most."""
DIGIT_SYSTEMS = ("0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "০১২৩৪৫৬৭৮৯", "੦੧੨੩੪੫੬੭੮੯",
                 "૦૧૨૩૪૫૬૭૮૯", "୦୧୨୩୪୫୬୭୮୯", "௦௧௨௩௪௫௬௭௮௯", "౦౧౨౩౪౫౬౭౮౯", "೦೧೨೩೪೫೬೭೮೯", "൦൧൨൩൪൫൬൭൮൯",
                 "๐๑๒๓๔๕๖๗๘๙", "໐໑໒໓໔໕໖໗໘໙", "០១២៣៤៥៦៧៨៩", "၀၁၂၃၄၅၆၇၈၉", "༠༡༢༣༤༥༦༧༨༩")
"""Decimal digits of the scripts Polylex serves that write numbers with their own digits: a number
in the query is looked for in each of them (Article 12 is ``المادة ١٢`` in many Arabic texts)."""
_WORD = regex.compile(r"\w+")  # with combining marks: Indic and Ethiopic words stay whole
_NUMBER = re.compile(r"\d+")
# A number written inside a word of a spaced script (Internet2, H2O, G7) is part of a name, not a
# reference: looked up alone it lifts every passage holding that digit. After a letter of an unspaced
# script (第12条) or after punctuation (Art.12, § 3) it stands alone.
_REFERENCE_NUMBER = regex.compile(rf"(?<![\p{{L}}\p{{M}}--[{HAN_KANA}{SOUTHEAST_ASIAN}]])\d+", regex.V1)
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,}\b")
# Runs of scripts written without spaces between words, and the letters (marks not counted) a word of
# them has on average, rounded down: Chinese about 1.6 characters, Japanese about 2, Thai, Lao, Khmer
# and Burmese 4 or more. Without it a whole Chinese or Thai question was one "word" beside its number.
_UNSPACED_RUNS = ((regex.compile(f"[{HAN_KANA}]+"), 2), (regex.compile(f"[{SOUTHEAST_ASIAN}]+"), 4))


@dataclass(frozen=True)
class SearchHit:
    """One ranked chunk. ``score`` is the cosine similarity in dense mode and the RRF score in
    hybrid mode; ``page``..``page_end`` are 1-based; ``text`` is the whole chunk (plain text,
    never HTML: escape it before showing it in a page)."""

    chunk_id: int
    doc_id: int
    file: str
    title: str
    page: int
    page_end: int
    heading: str | None
    lang: str
    score: float
    text: str
    ocr_conf: float | None = None  # Tesseract's confidence (0-100) when the passage was read by OCR
    matched: tuple[str, ...] = ()  # hybrid, when exact terms counted: those this passage holds (references, phrases)

    def snippet(self, width: int = 200) -> str:
        flat = " ".join(self.text.split())
        return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


@dataclass
class SearchResponse:
    """The ranked hits for one query, with the query's language (detected unless given).

    ``query_vector`` is the query's embedding as the search used it, so diagnostics need not
    encode the query again; it is not part of the ``--json`` form."""

    query: str
    query_lang: str
    mode: Mode
    results: list[SearchHit] = field(default_factory=list)
    query_vector: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """The ``--json`` form: ``{"query", "query_lang", "mode", "results": [{doc_id, file, title,
        page, heading, lang, score, text, chunk_id, page_end}, ...]}``."""
        return {"query": self.query, "query_lang": self.query_lang, "mode": self.mode,
                "results": [asdict(hit) for hit in self.results]}


def encode_query(encoder: Encoder, query: str) -> np.ndarray:
    """The normalised float32 embedding of one query, (dim,)."""
    vectors = encoder.encode_query([query], convert_to_numpy=True, normalize_embeddings=True,
                                   show_progress_bar=False)
    return np.asarray(vectors[0], dtype="float32")


def rrf(rankings: Sequence[Sequence[int]], *, k: int = RRF_K, weights: Sequence[float] | None = None
        ) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of ranked id lists: ``[(id, score), ...]``, best first; ``weights``
    (default all 1) scale each list's ``1 / (k + rank)``.

    Ties keep the order of first appearance (the dense ranking is passed first).
    """
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings)):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


REFERENCE_SHARE = 1 / 3
"""Hybrid fuses the keyword ranking only when at least this share of the query's words are reference
terms ("Article 12", "§ 3", "Kifungu cha 5", "Section 2(1)(d)"); below it the query is a question that
mentions a number in passing, and is answered by dense search alone."""


def keyword_weight(query: str) -> float:
    """1.0 when hybrid search uses keyword evidence for the query at all (it quotes a phrase, or its
    :func:`reference_weight` is 1), else 0: on every other query hybrid returns dense search's ranking."""
    return 1.0 if quoted_phrases(query) else reference_weight(query)


def reference_weight(query: str) -> float:
    """1.0 when the query is mostly a reference (:data:`REFERENCE_SHARE` of its words or more are
    numbers or acronyms), else 0: how much the reference terms' keyword ranking counts in the fusion.

    Measured with ``python -m app evaluate`` on MILPaC: fusing every query that holds a number or an
    acronym (weight 1) lowered multilingual mAP from 0.435 to 0.421, and weighting by the share (a
    year in a ten-word question counting 0.2) still to 0.430 — reciprocal rank fusion lifts even a
    lightly weighted keyword hit over the dense ranks below it. Questions are better left to meaning.
    """
    rest = unquoted(query)  # a quoted phrase counts as a phrase (see search), not as references
    words = word_count(rest)
    if not words:
        return 0.0
    share = (len(_REFERENCE_NUMBER.findall(rest)) + len(_ACRONYM.findall(rest))) / words
    return 1.0 if share >= REFERENCE_SHARE else 0.0


def word_count(text: str) -> int:
    """How many words ``text`` has, numbers split from the letters they touch, and a run of a script
    written without spaces counted as the words it holds on average (:data:`_UNSPACED_RUNS`), at least one.

    >>> word_count("第12条"), word_count("1466年巴黎有多少人死于瘟疫？"), word_count("มาตรา 12")
    (3, 6, 2)
    """
    count = 0
    for word in _WORD.findall(_NUMBER.sub(lambda m: f" {m.group()} ", text)):
        for run, letters_a_word in _UNSPACED_RUNS:
            runs = run.findall(word)
            for found in runs:
                letters = sum(1 for ch in found if not unicodedata.category(ch).startswith("M"))
                count += max(1, letters // letters_a_word)
            word = run.sub(" ", word)
        count += len(word.split())
    return count


def reference_terms(query: str) -> list[str]:
    """The query's language-neutral terms: each number in every digit system of :data:`DIGIT_SYSTEMS`,
    and acronyms in Latin capitals (``UNCITRAL``, ``OHADA``).

    Quoted phrases are not among them (see :func:`keyword_query`): they are words of one language.

    >>> reference_terms("Article 12 (ECOWAS)")
    ['12', '١٢', ..., 'ECOWAS']
    """
    terms: list[str] = []
    query = unquoted(query)  # numbers inside a quoted phrase belong to the phrase
    for number in _REFERENCE_NUMBER.findall(query):
        ascii_digits = "".join(str(unicodedata.digit(ch)) for ch in number)
        terms += ["".join(system[int(d)] for d in ascii_digits) for system in DIGIT_SYSTEMS]
    terms += _ACRONYM.findall(query)
    return list(dict.fromkeys(terms))


def phrase_query(query: str) -> str:
    """The query's quoted phrases as a keyword query that requires every one, as written."""
    return " ".join('"' + phrase.replace('"', " ") + '"' for phrase in quoted_phrases(query))


def place_within_languages(ranked: Sequence[tuple[int, float]], first: Sequence[int], lang_of: dict[int, str]
                           ) -> list[tuple[int, float]]:
    """``ranked`` with the passages of ``first`` moved ahead of the others *of their own language*: every
    rank keeps its language and its score, only which passage of that language fills it changes. Among
    themselves the passages of ``first`` keep ``ranked``'s order (the phrase filters, meaning still
    ranks); those ``ranked`` lacks join at its end, in ``first``'s order, before the moves.

    How a quoted phrase counts in hybrid search: the phrase is written in one language, and fusing its
    keyword ranking lifted that language above the others; placed within languages, it cannot change
    which languages the first results come from.

    >>> place_within_languages([(1, .9), (2, .8), (3, .7), (4, .6)], [4], {1: "en", 2: "fr", 3: "en", 4: "fr"})
    [(1, 0.9), (4, 0.8), (3, 0.7), (2, 0.6)]
    """
    known = {i for i, _ in ranked}
    pool = list(ranked) + [(i, ranked[-1][1] if ranked else 0.0) for i in first if i not in known]
    wanted = set(first)
    by_lang: dict[str, list[int]] = {}
    for i, _ in pool:
        by_lang.setdefault(lang_of.get(i, ""), []).append(i)
    # within a language: the phrase's passages, then the rest, each in the pool's order
    queues = {lang: [i for i in ids if i in wanted] + [i for i in ids if i not in wanted]
              for lang, ids in by_lang.items()}
    taken = {lang: 0 for lang in queues}
    placed = []
    for i, score in pool:
        lang = lang_of.get(i, "")
        placed.append((queues[lang][taken[lang]], score))
        taken[lang] += 1
    return placed


def keyword_query(query: str) -> str:
    """The phrases and reference terms in one keyword query (phrases required): what ``phrases-fused`` fuses."""
    return " ".join([phrase_query(query), *reference_terms(query)]).strip()


def exact_terms(query: str) -> list[str]:
    """The terms a hit is shown to hold: quoted phrases and reference terms (numbers in every digit system)."""
    return quoted_phrases(query) + reference_terms(query)


def search(store: StoreBackend, encoder: Encoder, query: str, *, k: int = 10, langs: Sequence[str] | None = None,
           docs: Sequence[int] | None = None, mode: Mode = "dense", query_lang: str | None = None,
           keywords: Keywords = "references", phrases_only: bool = False) -> SearchResponse:
    """Search the store in any language.

    Args:
        store: the open store (keeps FAISS and SQLite open between searches).
        encoder: the model the store was embedded with (``trainer.encoder.load_encoder``).
        query: the question or words, any language.
        k: number of results.
        langs: only chunks in these languages (codes as stored, e.g. ``["de", "fr"]``).
        docs: only chunks of these document ids.
        mode: ``"dense"`` or ``"hybrid"`` (dense + BM25 by reciprocal rank fusion).
        keywords: what hybrid's keyword side looks for (:data:`Keywords`; the default is the measured best).
        phrases_only: keep only passages holding every quoted phrase of the query, as written, in any
            language that writes it so, ranked by meaning (cosine; at most :data:`PHRASE_HOLDERS` of them);
            ignored when the query quotes nothing.
        query_lang: the query's language if known; detected otherwise (shown, never used to filter).

    Returns:
        A :class:`SearchResponse`; fewer than ``k`` results when the store (or filter) has fewer chunks.

    Raises:
        ValueError: empty query, ``k < 1`` or an unknown ``mode``.
        ModelMismatch: the store was embedded with another model.
    """
    query = query.strip()
    if not query:
        raise ValueError("the query is empty")
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r}; valid: {', '.join(MODES)}")
    if k < 1:
        raise ValueError(f"k={k}; it must be at least 1")
    langs = list(langs) if langs else None
    docs = [int(d) for d in docs] if docs else None
    vector = encode_query(encoder, query)
    store.check_model(model_id(encoder), int(vector.shape[0]))
    lang = query_lang or detect(query).lang

    exact = False  # whether exact terms counted (then each hit says which it holds)
    if phrases_only and quoted_phrases(query):
        holders = store.search_text(phrase_query(query), limit=PHRASE_HOLDERS, langs=langs, docs=docs)
        cosines = store.fetch_embeddings(np.array(holders, dtype="int64")) @ vector if holders else np.zeros(0)
        ranked = sorted(zip(holders, (float(c) for c in cosines)), key=lambda pair: -pair[1])[:k]
        exact = True
    elif mode == "dense":
        ranked = store.search_vectors(vector, k, langs=langs, docs=docs)
    else:
        depth = max(HYBRID_DEPTH, 5 * k)
        dense = [chunk_id for chunk_id, _ in store.search_vectors(vector, depth, langs=langs, docs=docs)]
        phrases = quoted_phrases(query) if keywords == "phrases-first" else []
        if keywords == "all":
            terms, weight = query, 1.0
        elif keywords == "phrases-fused":
            terms, weight = keyword_query(query), keyword_weight(query)
        else:
            terms = " ".join(reference_terms(query))
            weight = reference_weight(query) if keywords in ("references", "phrases-first") else 1.0
        lexical = store.search_text(terms, limit=depth, langs=langs, docs=docs) if terms and weight else []
        ranked = rrf([dense, lexical], weights=[1.0, weight])
        if phrases:
            holders = store.search_text(phrase_query(query), limit=depth, langs=langs, docs=docs)
            pool = [i for i, _ in ranked] + holders
            lang_of = {i: row["lang"] for i, row in store.fetch_chunks(pool).items()}
            ranked = place_within_languages(ranked, holders, lang_of)
        ranked = ranked[:k]
        exact = keywords in ("references", "phrases-first", "phrases-fused") and bool(quoted_phrases(query) or lexical)

    rows = store.fetch_chunks([chunk_id for chunk_id, _ in ranked])
    wanted = exact_terms(query) if exact else []
    hits = [SearchHit(chunk_id=chunk_id, doc_id=row["doc_id"], file=row["file"], title=row["title"], page=row["page"],
                      page_end=row["page_end"], heading=row["heading"], lang=row["lang"], score=round(score, 6),
                      text=row["text"], ocr_conf=row.get("ocr_conf"),
                      matched=tuple(matched_terms(row["text"], wanted)) if wanted else ())
            for chunk_id, score in ranked if (row := rows.get(chunk_id))]
    return SearchResponse(query=query, query_lang=lang, mode=mode, results=hits, query_vector=vector)


def other_languages(store: StoreBackend, chunk_id: int) -> list[SearchHit]:
    """The passage's best match in every language of the library, other documents only: the
    practitioner's "find this provision in the other language versions", and a direct view of how
    well the model aligns languages (the score is the cosine of the two passages).

    The passage's stored vector is the query, so nothing is encoded; each language is searched on
    its own (exact for a small language, the index for a large one), so a language the others
    outrank still shows its best passage. Best match first.

    Raises:
        NotInLibrary: no passage ``chunk_id`` (a ``KeyError``).
    """
    rows = store.fetch_chunks([int(chunk_id)])
    if int(chunk_id) not in rows:
        raise NotInLibrary("passage", int(chunk_id))
    own = rows[int(chunk_id)]
    corpus = store.embeddings(docs=[own["doc_id"]])
    vector = corpus.vectors[int(np.flatnonzero(corpus.ids == int(chunk_id))[0])]
    same_document = set(corpus.ids.tolist())
    best: list[tuple[int, float]] = []
    for lang in store.languages():
        # deep enough that passages of the same document (any of them may be in this language) cannot fill it
        hits = store.search_vectors(vector, len(same_document) + 1, langs=[lang])
        found = [(i, score) for i, score in hits if i not in same_document]
        if found:
            best.append(found[0])
    best.sort(key=lambda pair: -pair[1])
    found_rows = store.fetch_chunks([i for i, _ in best])
    return [SearchHit(chunk_id=i, doc_id=row["doc_id"], file=row["file"], title=row["title"], page=row["page"],
                      page_end=row["page_end"], heading=row["heading"], lang=row["lang"], score=round(score, 6),
                      text=row["text"], ocr_conf=row.get("ocr_conf"))
            for i, score in best if (row := found_rows.get(i))]
