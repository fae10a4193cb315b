"""Encoders for the app's tests: a fast fake that pins arithmetic, and the real default, loaded once.

``FakeEncoder`` has the part of the sentence-transformers API the app uses (``encode_query``,
``encode_document``, ``tokenizer``, ``max_seq_length``, ``get_embedding_dimension`` and the
``polylex_id`` that ``trainer.encoder.load_encoder`` sets). Its embeddings are hashed bags of
lower-cased words, so texts sharing words are near and a word-for-word query finds its chunk;
it knows no languages, which is what the real-encoder tests are for.

Example::

    >>> enc = FakeEncoder()
    >>> float(enc.encode_query(["right to life"])[0] @ enc.encode_document(["the right to life"])[0]) > 0.8
    True
"""

from __future__ import annotations

import functools
import hashlib
import os
import re

import numpy as np
import pytest

_WORD = re.compile(r"[\u3400-\u9fff]|\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class FakeTokenizer:
    """One token per word (one per Han character), like a very coarse SentencePiece."""

    def __call__(self, texts, **_: object) -> dict:
        return {"input_ids": [list(range(len(_words(t)))) for t in texts]}


class FakeEncoder:
    polylex_id = "fake-bag-of-words"
    max_seq_length = 512

    def __init__(self, dim: int = 64, model_id: str | None = None) -> None:
        self.dim = dim
        self.tokenizer = FakeTokenizer()
        if model_id:
            self.polylex_id = model_id

    def get_embedding_dimension(self) -> int:
        return self.dim

    def _encode(self, texts) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype="float32")
        for row, text in enumerate(texts):
            for word in _words(text):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[row, 0] += 0.01  # no zero vectors
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_document(self, texts, **_: object) -> np.ndarray:
        return self._encode(list(texts))

    def encode_query(self, texts, **_: object) -> np.ndarray:
        return self._encode(list(texts))


def require(condition: bool, message: str) -> None:
    """Skip with ``message`` when a system part (Tesseract, Chromium, fonts) is missing; fail under CI."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must have it)")
    pytest.skip(message)


@functools.lru_cache(maxsize=1)
def real_encoder():
    """The real default encoder (multilingual-e5-small), loaded once per test session."""
    from trainer.encoder import load_encoder

    return load_encoder("default")


def demo_law_versions(encoder) -> tuple[dict, dict]:
    """The demo laws chunked as ingestion chunks them and embedded with ``encoder`` (one encode call).

    Returns ``(full, short)``: ``name -> DocChunks`` for each whole law ("tenancy.sw"), and for
    three-chunk versions like the browser test's PDFs (its own title without "DEMO –", then two
    articles): ``"tenancy.sw@2"`` holds articles 2 and 3. Used by tests/test_diagnostics.py and
    scripts/translation_set_margin.py.
    """
    from app.chunking import chunk_pages
    from app.demo_corpus import demo_documents
    from app.diagnostics import DocChunks
    from app.ingest import chunk_budget, token_counter

    texts: dict[str, tuple[str, list[str]]] = {}  # name -> (language, chunk texts)
    for document in demo_documents():
        whole = document.title + "\n\n" + "\n\n".join(document.paragraphs)
        articles = [p for p in document.paragraphs if "\n" in p]  # "Article N" and its text
        versions = {document.name: whole}
        for first in (1, 2):
            versions[f"{document.name}@{first}"] = "\n\n".join(
                [document.title.split("–", 1)[1].strip(), *articles[first - 1:first + 1]])
        for name, text in versions.items():
            chunks = chunk_pages([text], count_tokens=token_counter(encoder), budget=chunk_budget(encoder))
            texts[name] = (document.lang, [c.text for c in chunks])
    flat = [t for _, chunk_texts in texts.values() for t in chunk_texts]
    vectors = np.asarray(encoder.encode_document(flat, batch_size=32))  # one call: ~120 chunks
    full, short, row = {}, {}, 0
    for name, (lang, chunk_texts) in texts.items():
        (short if "@" in name else full)[name] = DocChunks(lang, vectors[row:row + len(chunk_texts)])
        row += len(chunk_texts)
    return full, short
