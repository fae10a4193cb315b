"""The text the keyword index holds, and the queries it answers: one form for both stores.

Both stores index :func:`index_form` of each passage and look up :func:`query_terms` of the query,
so matching works alike in SQLite (FTS5) and PostgreSQL (full text), in every script:

- **Folding**: case (``casefold``, NFKC), and the marks readers leave out when they type —
  diacritics on Latin, Greek and Cyrillic letters (Yoruba tone marks, Vietnamese, French accents,
  Greek tonos; as with FTS5's own ``remove_diacritics``, ñ also matches n and й matches и), Arabic
  harakat, hamza and madda forms of alef, tatweel, Hebrew points. Marks that
  are letters of their script (Devanagari, Bengali, Tamil, Thai… vowel signs) are kept,
  and stay inside their word.
- **Segmentation**: scripts written without spaces between words (Han, Kana, Thai, Lao, Khmer,
  Myanmar) are indexed one character (grapheme) per token, and a query's run of them is looked up as
  overlapping two-grapheme phrases, the classic answer for text nobody segmented: 合同 matches inside
  "本合同自签字之日起生效". Ethiopic is indexed the same way, one syllable per token: Amharic and
  Tigrinya glue prepositions to the word (የመሬት "of the land"), and a word is then found inside its
  longer forms. Digits are split from letters, so "12" is found in 第12条 and in "Art.12".
- **Word endings**: a query word of :data:`PREFIX_FROM` characters or more also matches any word that
  starts with its first :data:`PREFIX_LENGTH` (a crude stemmer for suffixing languages: Hindi,
  Bengali, Telugu, Turkish, Russian, Greek, German…).
- **Phrases**: a double-quoted part of the query ("force majeure", «bonne foi», „Treu und Glauben“)
  must match as written, its words adjacent and in order.

Why not FTS5's own tokenizers: ``unicode61`` treats combining marks as separators, so किताब was
indexed as the tokens क, त, ब (every Indic, Thai and harakat-bearing word); ``trigram`` cannot look
up words shorter than three characters (most Chinese words, every one- or two-digit article
number). Measured against both, BM25 alone, Recall@10 (``python bench/keyword_index.py``, README
"Search quality through the product"): XQuAD-R 0.831 (unicode61) / 0.789 (trigram) / 0.940 (this
form), Chinese 0.18 / 0.15 / 0.96; MILPaC 0.753 / 0.422 / 0.865; AmQA 0.970 / 0.970 / 0.995; a
number in the sentences of 128 languages 0.931 / 0.586 / 0.998.
"""

from __future__ import annotations

import unicodedata
from itertools import pairwise
from dataclasses import dataclass

import regex

__all__ = ["HAN_KANA", "SOUTHEAST_ASIAN", "QueryTerms", "fts5_query", "index_form", "matched_terms", "query_terms", "quoted_phrases", "tsquery", "unquoted",
           "tsvector_literal"]

_FOLDED_SCRIPTS = r"\p{Latin}\p{Greek}\p{Cyrillic}\p{Arabic}\p{Hebrew}"
_MARKS_ON_FOLDED = regex.compile(rf"(?<=[{_FOLDED_SCRIPTS}])\p{{Mn}}+")
_LETTERS_WITHOUT_DECOMPOSITION = str.maketrans({"đ": "d", "ł": "l", "ø": "o", "ħ": "h", "ı": "i", "ـ": ""})
# The scripts written without spaces between words, as regex class contents (also what
# app.search counts words of): by script extension, so that marks shared by Kana and Han (ー, 々) stay
# inside their runs.
HAN_KANA = r"\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}"
SOUTHEAST_ASIAN = r"\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
# Indexed one grapheme per token: those scripts, 〆, and Ethiopic (spaced, but its words are found inside
# longer forms: መሬት in የመሬት).
_UNSPACED_CHAR = rf"[{HAN_KANA}〆{SOUTHEAST_ASIAN}\p{{Ethiopic}}]"
MAX_TOKEN_BYTES = 2047  # PostgreSQL's longest lexeme; longer "words" (a run of digits, a garbled line) are left out
PREFIX_FROM = 6
PREFIX_LENGTH = 5
_GRAPHEME_UNSPACED = regex.compile(rf"{_UNSPACED_CHAR}\p{{M}}*")
_DIGITS = regex.compile(r"\p{Nd}+")
_TOKEN = regex.compile(r"[\p{L}\p{N}\p{M}\p{Co}]+")
_QUOTED = regex.compile(r"[\"“”„«»「」『』]([^\"“”„«»「」『』]+)[\"“”„«»「」『』]")


def fold(text: str) -> str:
    """Case and reader-optional marks folded (see the module's doc); other marks kept."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS_WITHOUT_DECOMPOSITION)
    return unicodedata.normalize("NFC", _MARKS_ON_FOLDED.sub("", unicodedata.normalize("NFD", text)))


def tokens(text: str) -> list[str]:
    """The index's tokens of ``text``: folded words, digits apart, one grapheme per token in unspaced scripts
    (tokens over :data:`MAX_TOKEN_BYTES` left out, alike for passages and queries, in both stores)."""
    spaced = _GRAPHEME_UNSPACED.sub(lambda m: f" {m.group()} ", _DIGITS.sub(lambda m: f" {m.group()} ", fold(text)))
    return [t for t in _TOKEN.findall(spaced) if len(t.encode()) <= MAX_TOKEN_BYTES]


def index_form(text: str) -> str:
    """What the keyword index stores for a passage: its tokens, separated by single spaces.

    >>> index_form("第12条 本合同")
    '第 12 条 本 合 同'
    >>> index_form("Ọmọ ẹgbẹ́ — كِتَاب")
    'omo egbe كتاب'
    """
    return " ".join(tokens(text))


@dataclass(frozen=True)
class QueryTerms:
    """A query for the keyword index: ``alternatives`` (each a token sequence that must appear
    adjacent and in order; any of them may match), ``prefixes`` (any word starting with one of them
    may match) and ``required`` phrases (quoted in the query: every one must match)."""

    alternatives: tuple[tuple[str, ...], ...]
    prefixes: tuple[str, ...] = ()
    required: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.alternatives or self.prefixes or self.required)


def _unspaced(token: str) -> bool:
    return bool(_GRAPHEME_UNSPACED.fullmatch(token))


def _word_sequences(text: str) -> list[tuple[str, ...]]:
    """A query's words as token sequences: a spaced word is itself; a run of unspaced graphemes
    becomes its overlapping pairs (a single grapheme stays alone)."""
    out: list[tuple[str, ...]] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) == 1:
            out.append((run[0],))
        out.extend(pairwise(run))
        run.clear()

    for token in tokens(text):
        if _unspaced(token):
            run.append(token)
        else:
            flush()
            out.append((token,))
    flush()
    return list(dict.fromkeys(out))


def query_terms(query: str) -> QueryTerms:
    """The keyword lookup for a query: quoted parts as required phrases, every other word (or
    two-grapheme pair of an unspaced script) as an alternative.

    >>> query_terms('合同 "force majeure" Article 12')
    QueryTerms(alternatives=(('合', '同'), ('article',), ('12',)), prefixes=('artic',), required=(('force', 'majeure'),))
    """
    required = tuple(seq for part in _QUOTED.findall(query) if (seq := tuple(tokens(part))))
    alternatives = _word_sequences(unquoted(query))
    prefixes = [seq[0][:PREFIX_LENGTH] for seq in alternatives
                if len(seq) == 1 and len(seq[0]) >= PREFIX_FROM and not seq[0].isdigit() and not _unspaced(seq[0][0])]
    return QueryTerms(alternatives=tuple(alternatives), prefixes=tuple(dict.fromkeys(prefixes)), required=required)


def _fts5_phrase(seq: tuple[str, ...]) -> str:
    return '"' + " ".join(seq).replace('"', '""') + '"'


def fts5_query(terms: QueryTerms) -> str:
    """The FTS5 MATCH expression: every required phrase, and any alternative. The alternatives sit
    beside the first required phrase in an OR, so that they rank (BM25 counts them) without being
    required: ``"force majeure" AND ("art" OR "12" OR "force majeure")``."""
    required = " AND ".join(_fts5_phrase(seq) for seq in terms.required)
    alternatives = " OR ".join([_fts5_phrase(seq) for seq in terms.alternatives]
                               + [_fts5_phrase((p,)) + " *" for p in terms.prefixes])
    if required and alternatives:
        return f"{required} AND ({alternatives} OR {_fts5_phrase(terms.required[0])})"
    return required or alternatives


def _ts_phrase(seq: tuple[str, ...]) -> str:
    # tokens hold letters, digits and marks only (see _TOKEN): nothing to escape but the quote
    return "(" + " <-> ".join("'" + t.replace("'", "''") + "'" for t in seq) + ")"


def tsquery(terms: QueryTerms) -> str:
    """The same lookup as a PostgreSQL ``tsquery`` text (``to_tsquery('simple', …)``)."""
    required = " & ".join(_ts_phrase(seq) for seq in terms.required)
    alternatives = " | ".join([_ts_phrase(seq) for seq in terms.alternatives]
                              + ["'" + p.replace("'", "''") + "':*" for p in terms.prefixes])
    if required and alternatives:
        return f"{required} & ({alternatives} | {_ts_phrase(terms.required[0])})"
    return required or alternatives


PG_MAX_POSITION = 16383  # PostgreSQL's largest tsvector position
PG_MAX_POSITIONS = 256  # and the most positions it keeps per lexeme


def tsvector_literal(text: str) -> str:
    """The passage's tokens as a PostgreSQL ``tsvector`` literal with positions (``'合':1 '同':2``), so the
    server stores exactly these tokens: its own parser would split them by the server's locale."""
    positions: dict[str, list[int]] = {}
    for i, token in enumerate(tokens(text), start=1):
        found = positions.setdefault(token, [])
        if len(found) < PG_MAX_POSITIONS:
            found.append(min(i, PG_MAX_POSITION))
    return " ".join("'" + token.replace("\\", "\\\\").replace("'", "''") + "':" + ",".join(map(str, dict.fromkeys(where)))
                    for token, where in positions.items())


def unquoted(query: str) -> str:
    """The query without its quoted phrases (each replaced by a space)."""
    return _QUOTED.sub(" ", query)


def quoted_phrases(query: str) -> list[str]:
    """The double-quoted parts of a query, as written (``"force majeure"``, «bonne foi», „Treu und Glauben“)."""
    return [part.strip() for part in _QUOTED.findall(query) if part.strip()]


def matched_terms(text: str, terms: list[str]) -> list[str]:
    """Those of ``terms`` that the keyword index matches in ``text``: each term's tokens appear in the
    text's tokens adjacent and in order (so ``12`` is in 第12条, ``omo`` in Ọmọ, and a phrase only as written)."""
    have = " " + index_form(text) + " "
    return [term for term in terms if (form := index_form(term)) and f" {form} " in have]
