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


