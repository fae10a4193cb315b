"""Pages of text -> chunks that follow legal structure, each within a token budget.

1. Lines become paragraphs. pypdf gives one line per printed line, so a paragraph ends at a blank
   line, before a heading or a numbered paragraph ("(2)", "3.", "b)") that follows a finished
   sentence, or after a short line that ends a sentence. Running headers and footers (the same
   line, digits aside, on most pages) are dropped.
2. Headings open sections: Article / Art. / Section / § / Artículo / Artikel / Статья / Kifungu /
   المادة / अनुच्छेद / አንቀጽ / 第…条 and their kin (``HEADING_WORDS``), followed by a number;
   and, in any language, lines that have the *shape* of a heading (``_shape_headings``): a
   short line with a number (Arabic, Devanagari, Bengali, Persian ... digits, Ethiopic or Roman
   numerals; before or after its word: "Kifungu cha 3.", "3. cikk", "ΑΡΘΡΟ 3", "მუხლი 3",
   "3-бап") whose wording recurs with increasing numbers through the document, and the same
   wording with a spelled-out ordinal ("Article premier", "مادهٔ اول").
   A chunk never spans two sections, and each chunk keeps its section's heading.
3. Paragraphs of a section are packed into chunks up to ``budget`` tokens of the model's own
   tokenizer; a paragraph over budget is split at sentences, then words, then characters.

No overlap between chunks: a hit then maps to one place in the document, with its page(s).

Example::

    >>> count = lambda texts: [len(t.split()) for t in texts]   # the app passes the model tokenizer
    >>> chunks = chunk_pages(["Article 1\\nAll human beings are born free.", "Article 2\\nEveryone..."],
    ...                      count_tokens=count, budget=64)
    >>> [(c.heading, c.page, c.page_end) for c in chunks]
    [('Article 1', 1, 1), ('Article 2', 2, 2)]
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

CountTokens = Callable[[list[str]], list[int]]

DEFAULT_BUDGET = 256
"""Tokens per chunk (without the ``passage: `` prompt and special tokens): well inside
multilingual-e5's 512, and about one legal article or a few paragraphs."""

HEADING_WORDS = [
    # Latin script
    "Article", "Art.", "Artikel", "Art", "Artículo", "Articulo", "Artigo", "Articolo", "Articol", "Artykuł",
    "Článek", "Članak", "Član", "Cikk", "Pykälä", "Straipsnis", "Pants", "Paragraf", "Paragraph", "Paragraphe",
    "Section", "Sec.", "Sektion", "Sección", "Seção", "Chapter", "Chapitre", "Kapitel", "Capítulo", "Capitolo",
    "Part", "Partie", "Teil", "Title", "Titre", "Titel", "Título", "Titolo", "Schedule", "Rule", "Regulation",
    "Kifungu", "Sehemu", "Ibara", "Ingingo", "Isiqephu", "Sashe", "Madde", "Điều", "Pasal", "Bab", "Bölüm",
    # other scripts
    "Статья", "Стаття", "Член", "Глава", "Раздел", "Άρθρο", "Κεφάλαιο", "المادة", "مادة", "الفصل", "الباب",
    "अनुच्छेद", "धारा", "अध्याय", "भाग", "ধারা", "অনুচ্ছেদ", "பிரிவு", "సెక్షన్", "કલમ", "ਧਾਰਾ", "कलम",
    "አንቀጽ", "ክፍል", "סעיף", "פרק", "มาตรา", "หมวด",
]
_NUMBER = r"(?:[\d\u1369-\u137c]+[a-z]?(?:[.\-]\d+)*|(?-i:[IVXLCDM]{1,7})\b|premier|first|unique)"
_WORDS = "|".join(re.escape(w) for w in sorted(HEADING_WORDS, key=len, reverse=True))
# Arabic and Hebrew headings may come out of pypdf with the number first (visual order).
_HEADING = re.compile(
    rf"^(?:§{{1,2}}\s*\d+[a-z]?"
    rf"|(?:{_NUMBER}\s+)?(?:{_WORDS})\s*{_NUMBER}"
    rf"|{_NUMBER}\s+(?:المادة|مادة|סעיף)"
    r"|第\s*[〇零一二三四五六七八九十百千万\d]+\s*[条條章節节款編编項项部]"
    r"|제\s*\d+\s*[조장절])",
    re.IGNORECASE,
)
_NUMBERED = re.compile(r"^(?:\(\d{1,3}[a-z]?\)|\d{1,3}[a-z]?[.)]\s|\([a-z]{1,4}\)\s|[a-z]\)\s)")
_SENTENCE_END = tuple(".!?;:。！？；：।॥።؟۔")
_CLOSING = "\"”’»›)]'」』"


def _ends_sentence(line: str) -> bool:
    """Whether a line ends a sentence, closing quotes and brackets aside ('... mint mi.”')."""
    line = line.rstrip().rstrip(_CLOSING)
    return line.endswith(_SENTENCE_END) or line.endswith("፡፡")  # Ethiopic full stop, also written as two colons
_SENTENCES = re.compile(r"(?<=[.!?。！？।॥።؟۔])\s+|(?<=[。！？])")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af\u0e00-\u0e7f]")


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: ``text`` from page ``page`` to ``page_end`` (1-based), under
    ``heading`` (e.g. "Article 12"; None before the first heading or without structure)."""

    text: str
    page: int
    page_end: int
    heading: str | None


@dataclass
class _Block:
    text: str
    page: int
    heading: str | None = None  # set when this block is a heading line


def heading_of(line: str) -> str | None:
    """The heading a line opens, or None: the whole line when short, else its numbered prefix.

    "Section 3 of the Act applies" is prose, not a heading: after the number must come the
    end of line, punctuation, or a capitalised title.
    """
    match = _HEADING.match(line)
    if not match:
        return None
    rest = line[match.end():]
    tail = rest.strip()
    if tail and rest[0] not in ".:-–—)]" and not (rest[0].isspace() and not tail[0].islower()):
        return None
    if len(line) <= 80:
        return line.strip()
    return line[: match.end()].strip()


# A number as a heading writes it: decimal digits of any script (int() reads them), an ordinal
# suffix of up to three letters ("1aad", "1er", "2nd"), Ethiopic numerals, or a Roman numeral.
_SHAPE_NUMBER = re.compile(r"^(?:(?P<digits>\d{1,4})[^\W\d_]{0,3}|(?P<ethiopic>[\u1369-\u137c]{1,4})|(?P<roman>[IVXLCDM]{1,7}))$")
_SHAPE_PUNCT = ".:)(-–—,;"
# A heading line is short: at most this many words, the number among the first three (the
# first or after one or two words); a number-first line is shorter still, or "1. The court
# shall ..." (a numbered paragraph) would qualify.
_SHAPE_MAX_WORDS = 12
_SHAPE_MAX_WORDS_NUMBER_FIRST = 4
_SHAPE_MAX_CHARS = 100
# A wording is a heading's when it recurs this often, its numbers mostly going up.
_SHAPE_MIN_REPEATS = 3
_SHAPE_MIN_RISING = 0.8
# Spelled-out ordinals only ("مادهٔ اول", "مادهٔ دوم" ...): the same first word on this many
# two-word lines, each with a different second word.
_SHAPE_MIN_SPELLED = 5
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def _number_value(token: str) -> int | None:
    """The value of a heading's number token ("12.", "१२", "፲፪", "XIV", "1aad"), else None."""
    match = _SHAPE_NUMBER.match(token.strip(_SHAPE_PUNCT))
    if not match:
        return None
    if match["digits"]:
        return int(match["digits"])
    if match["ethiopic"]:
        return int(sum(unicodedata.numeric(ch) for ch in match["ethiopic"]))  # ፲፪ = 10 + 2
    total = 0
    values = [_ROMAN[ch] for ch in match["roman"]]
    for value, after in zip(values, values[1:] + [0]):
        total += -value if value < after else value
    return total


def _fold(word: str) -> str:
    """A heading word compared without case, accents or punctuation ("ΑΡΘΡΟ" == "Άρθρο")."""
    decomposed = unicodedata.normalize("NFKD", word.casefold().strip(_SHAPE_PUNCT))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _shape(line: str) -> tuple[str, int] | None:
    """``(wording, number)`` of a line shaped like a heading: ``("kifungu cha #", 3)`` for
    "Kifungu cha 3.", ``("# cikk", 3)`` for "3. cikk", ``("#-бап", 3)`` for "3-бап"; else None."""
    words = line.split()
    if not words or len(words) > _SHAPE_MAX_WORDS or len(line) > _SHAPE_MAX_CHARS:
        return None
    for i, word in enumerate(words[:3]):
        value = _number_value(word)
        head, _, tail = word.partition("-")
        if value is None and tail and (value := _number_value(head)) is not None:  # "3-бап" (Kazakh, Kyrgyz)
            return (" ".join([*map(_fold, words[:i]), f"#-{_fold(tail)}"]), value)
        if value is None:
            continue
        if i == 0:
            if len(words) == 1 or len(words) > _SHAPE_MAX_WORDS_NUMBER_FIRST or not words[1][0].isalpha():
                return None
            return (f"# {_fold(words[1])}", value)
        return (" ".join([*map(_fold, words[:i]), "#"]), value)
    return None


def _shape_headings(lines: list[str]) -> set[str]:
    """Lines that are headings by their shape and recurrence, in a document's lines (running headers left out)."""
    found: dict[str, list[tuple[int, str]]] = {}
    for line in lines:
        shape = _shape(line.strip())
        if shape:
            found.setdefault(shape[0], []).append((shape[1], line.strip()))
    headings: set[str] = set()
    prefixes: set[str] = set()
    for wording, hits in found.items():
        values = [value for value, _ in hits]
        rising = sum(b > a for a, b in itertools.pairwise(values))
        if len(hits) >= _SHAPE_MIN_REPEATS and rising >= _SHAPE_MIN_RISING * (len(values) - 1):
            headings.update(line for _, line in hits)
            if wording.endswith(" #"):
                prefixes.add(wording[:-2])
    # Spelled-out ordinals: "Article premier" among "Article 2", "Article 3" ...; or a document that
    # spells every one ("مادهٔ اول", "مادهٔ دوم" ...).
    second_words: dict[str, set[str]] = {}
    candidates: dict[str, list[str]] = {}
    for line in lines:
        words = line.split()
        if len(words) == 2 and words[1][0].isalpha() and len(line.strip()) <= 40:
            first = _fold(words[0])
            second_words.setdefault(first, set()).add(_fold(words[1]))
            candidates.setdefault(first, []).append(line.strip())
    for first, seconds in second_words.items():
        spelled_throughout = len(seconds) >= _SHAPE_MIN_SPELLED and len(candidates[first]) == len(seconds)
        if first in prefixes or spelled_throughout:
            headings.update(candidates[first])
    return headings


def _join(left: str, right: str) -> str:
    if left.endswith("-") and len(left) > 1 and left[-2].isalpha() and right[:1].islower():
        return left[:-1] + right  # hyphenation at a line break
    if _CJK.match(left[-1:]) or _CJK.match(right[:1]):
        return left + right
    return f"{left} {right}"


def _running_lines(pages: list[str]) -> set[str]:
    """Lines (digits ignored) that open or close most pages: running headers and footers."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    everywhere: Counter[str] = Counter()
    for page in pages:
        lines = [line for line in page.splitlines() if line.strip()]
        everywhere.update(re.sub(r"\d+", "#", line) for line in lines)
        # A heading is never a running header, even when articles often start at the top of a page.
        counts.update({re.sub(r"\d+", "#", line) for line in lines[:2] + lines[-2:] if heading_of(line) is None})
    # A running line is (almost) only at the edges of pages; a heading in a wording of its own
    # ("Հոդված 3") that happens to open a few pages occurs far more often inside them.
    return {line for line, n in counts.items() if n >= max(3, len(pages) // 2) and n >= 0.8 * everywhere[line]}


def _blocks(pages: list[str]) -> list[_Block]:
    running = _running_lines(pages)
    shaped = _shape_headings([
        line for page in pages for line in page.splitlines()
        if line.strip() and re.sub(r"\d+", "#", line) not in running
    ])

    def heading(line: str) -> str | None:
        known = heading_of(line)
        return known if known is not None else (line.strip() if line.strip() in shaped else None)

    blocks: list[_Block] = []
    for number, page in enumerate(pages, start=1):
        lines = page.splitlines()
        widest = max((len(line) for line in lines), default=0)
        current: list[str] = []
        previous = ""

        def flush() -> None:
            if current:
                text = current[0]
                for line in current[1:]:
                    text = _join(text, line)
                if any(ch.isalpha() for ch in text):
                    blocks.append(_Block(text, number))
                current.clear()

        for line in lines:
            if not line.strip() or (re.sub(r"\d+", "#", line) in running and heading_of(line) is None):
                flush()
                previous = ""
                continue
            # A heading or numbered paragraph can only start where the previous line ended
            # something: a sentence, a short (title or last) line, or another heading.
            ended = (not previous or _ends_sentence(previous) or len(previous) < 0.6 * widest
                     or heading(previous) is not None)
            # A line that is all heading, in a wording that recurs with rising numbers, needs no
            # sentence end before it: Thai and Lao end sentences with a space, not a mark.
            title = heading(line) if ended or line.strip() in shaped else None
            if title:
                flush()
                blocks.append(_Block(line, number, heading=title))
                previous = line
                continue
            if current and (ended and _NUMBERED.match(line) or
                            _ends_sentence(previous) and len(previous) < 0.75 * widest):
                flush()
            current.append(line)
            previous = line
        flush()
    return blocks


def _split_text(text: str, count_tokens: CountTokens, budget: int) -> list[str]:
    """Split one over-budget paragraph: at sentences, then at spaces, then between characters."""
    sentences = [s for s in _SENTENCES.split(text) if s.strip()]
    if len(sentences) > 1:
        return _pack_texts(sentences, count_tokens, budget, separator=" ")
    words = text.split(" ")
    halves = [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2:])] if len(words) > 1 else \
        [text[: len(text) // 2], text[len(text) // 2:]]
    pieces: list[str] = []
    for half, tokens in zip(halves, count_tokens(halves)):
        pieces.extend([half] if tokens <= budget or len(half) < 2 else _split_text(half, count_tokens, budget))
    return pieces


def _pack_texts(texts: list[str], count_tokens: CountTokens, budget: int, separator: str) -> list[str]:
    """Greedy packing of consecutive texts into pieces of at most ``budget`` tokens.

    Token counts of SentencePiece tokenizers are close to additive; one token per join is
    allowed for the separator, and ``chunk_pages`` verifies the packed result anyway.
    """
    out: list[str] = []
    current: list[str] = []
    used = 0
    for text, tokens in zip(texts, count_tokens(texts)):
        if tokens > budget:
            if current:
                out.append(separator.join(current))
                current, used = [], 0
            out.extend(_split_text(text, count_tokens, budget))
            continue
        if current and used + tokens + 1 > budget:
            out.append(separator.join(current))
            current, used = [], 0
        current.append(text)
        used += tokens + 1
    if current:
        out.append(separator.join(current))
    return out


def chunk_pages(pages: list[str], *, count_tokens: CountTokens, budget: int = DEFAULT_BUDGET) -> list[Chunk]:
    """Chunk a document given as text per page.

    Args:
        pages: ``pages[i]`` is the text of page ``i + 1`` (as :func:`app.pdf.read_pdf` returns it).
        count_tokens: token counts of a batch of texts, measured with the encoder's tokenizer
            (:func:`app.encoding.token_counter`); without special tokens or prompt.
        budget: most tokens per chunk (default :data:`DEFAULT_BUDGET`).

    Returns:
        Chunks in reading order; each holds at most ``budget`` tokens, the page range it
        came from, and the heading of its section.
    """
    if budget < 8:
        raise ValueError(f"budget={budget} tokens is too small; use at least 8")
    sections: list[tuple[str | None, list[_Block]]] = [(None, [])]
    for block in _blocks(pages):
        if block.heading:
            heading_only = sections[-1][0] is not None and len(sections[-1][1]) == 1
            if heading_only:
                # "Chapter 2" directly followed by "Article 5": keep the chapter line as text of
                # the article's section rather than as a chunk of its own.
                sections[-1] = (block.heading, sections[-1][1] + [block])
            else:
                sections.append((block.heading, [block]))
        else:
            sections[-1][1].append(block)

    chunks: list[Chunk] = []
    for heading, blocks in sections:
        if not blocks:
            continue
        paragraphs = [b.text for b in blocks]
        pieces_pages: list[tuple[str, int, int]] = []
        # Pack paragraph by paragraph, remembering which pages each piece touches.
        counts = count_tokens(paragraphs)
        current: list[_Block] = []
        used = 0

        def flush() -> None:
            if current:
                pieces_pages.append(("\n".join(b.text for b in current), current[0].page, current[-1].page))
                current.clear()

        for block, tokens in zip(blocks, counts):
            if tokens > budget:
                # A long provision splits; its heading line goes with the first piece, not alone.
                carried = list(current) if current and all(b.heading for b in current) else []
                if carried:
                    room = budget - sum(count_tokens([b.text for b in carried])) - len(carried)
                    current.clear()
                else:
                    flush()
                    room = budget
                used = 0
                pieces = _split_text(block.text, count_tokens, max(room, 8))
                for number, piece in enumerate(pieces):
                    if number == 0 and carried:
                        pieces_pages.append(("\n".join([*(b.text for b in carried), piece]), carried[0].page, block.page))
                    else:
                        pieces_pages.append((piece, block.page, block.page))
                continue
            if current and used + tokens + 1 > budget:
                flush()
                used = 0
            current.append(block)
            used += tokens + 1
        flush()
        chunks.extend(Chunk(text, first, last, heading) for text, first, last in pieces_pages)

    return _enforce_budget(chunks, count_tokens, budget)


def _enforce_budget(chunks: list[Chunk], count_tokens: CountTokens, budget: int) -> list[Chunk]:
    """Re-split the rare chunk whose joined text came out over budget (tokens are not exactly additive)."""
    if not chunks:
        return chunks
    out: list[Chunk] = []
    for chunk, tokens in zip(chunks, count_tokens([c.text for c in chunks])):
        if tokens <= budget:
            out.append(chunk)
            continue
        parts = chunk.text.split("\n")
        pieces = _pack_texts(parts, count_tokens, budget - 8, "\n") if len(parts) > 1 else \
            _split_text(chunk.text, count_tokens, budget - 8)
        out.extend(Chunk(piece, chunk.page, chunk.page_end, chunk.heading) for piece in pieces)
    return out
