"""Embeddings cached on disk per (model, benchmark, text), so re-evaluating a model re-encodes nothing.

Layout: ``<cache>/embeddings/<model fingerprint>/<benchmark>/<role>.npz`` with two arrays: ``keys``
(one hash per text) and ``vectors`` (float32, one row per key). A text's key hashes the role's prompt,
the model's maximum sequence length and the text itself, so any change to what the encoder sees gives a
new key. The model fingerprint hashes the weights themselves (not a path or a name): a retrained
``runs/NAME`` gets a fresh cache folder by construction.

Files are rewritten whole through a temporary file and ``os.replace``; two processes writing the same
file at once lose nothing but each other's additions, which the next run encodes again.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

Role = Literal["query", "passage"]
ROLES: tuple[str, ...] = ("query", "passage")
# The prompt names encode_query / encode_document look up, in sentence-transformers' order.
_PROMPT_NAMES = {"query": ("query",), "passage": ("document", "passage", "corpus")}


class TextEncoder(Protocol):
    """What evaluation needs from a model; ``SentenceTransformer`` satisfies it."""

    def encode_query(self, inputs: list[str], **kwargs: object) -> np.ndarray: ...

    def encode_document(self, inputs: list[str], **kwargs: object) -> np.ndarray: ...


def model_fingerprint(model: object) -> str:
    """A short hash of a model's weights, module layout, prompts and maximum length.

    Works for any ``torch.nn.Module`` (``SentenceTransformer`` is one). Hashing ~120M parameters takes
    about a second on CPU: negligible beside encoding, and it cannot go stale the way a path or mtime can.
    """
    import torch  # imported here so metrics-only users of this module need no torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model_fingerprint needs a torch.nn.Module, got {type(model).__name__}; pass model_key=")
    digest = hashlib.blake2b(digest_size=8)
    digest.update(repr(model).encode())
    digest.update(repr(sorted(getattr(model, "prompts", {}).items())).encode())
    digest.update(repr(getattr(model, "max_seq_length", None)).encode())
    for name, tensor in sorted(model.state_dict().items()):
        flat = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name}:{flat.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(flat.view(torch.uint8).numpy())
    return digest.hexdigest()


def text_keys(model: object, texts: Sequence[str], role: Role) -> list[str]:
    """One key per text: a hash of what the encoder sees (role prompt + text) and its length limit."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    prompts = getattr(model, "prompts", None) or {}
    prompt = next((prompts[name] for name in _PROMPT_NAMES[role] if name in prompts), "")
    prefix = f"{role}\x00{prompt}\x00{getattr(model, 'max_seq_length', None)}\x00".encode()
    return [hashlib.blake2b(prefix + text.encode(), digest_size=16).hexdigest() for text in texts]


def cache_folder(cache_root: Path, model_key: str, benchmark: str) -> Path:
    """``<cache_root>/embeddings/<model_key>/<benchmark>``, the benchmark name made path-safe."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", benchmark).strip("._") or "benchmark"
    return Path(cache_root) / "embeddings" / model_key / safe


def _load(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as data:
        return dict(zip(data["keys"].tolist(), data["vectors"]))


def _save(path: Path, table: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = np.array(list(table), dtype="<U32")
    vectors = np.stack(list(table.values())).astype(np.float32)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, keys=keys, vectors=vectors)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is meant to be shared like the models beside it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _encode(model: TextEncoder, texts: list[str], role: Role, batch_size: int, progress: bool) -> np.ndarray:
    encode = model.encode_query if role == "query" else model.encode_document
    vectors = encode(texts, batch_size=batch_size, show_progress_bar=progress,
                     convert_to_numpy=True, normalize_embeddings=True)
    return np.asarray(vectors, dtype=np.float32)


def encode_cached(
    model: TextEncoder,
    texts: Sequence[str],
    role: Role,
    *,
    folder: Path | None,
    batch_size: int = 32,
    progress: bool = False,
) -> tuple[np.ndarray, int]:
    """Normalised embeddings of ``texts`` for ``role``, encoding only those not in ``folder`` yet.

    Args:
        model: anything with ``encode_query`` / ``encode_document`` (sentence-transformers API).
        texts: the texts, in order; duplicates are encoded once.
        role: ``"query"`` or ``"passage"`` (selects the model's prompt).
        folder: cache folder from :func:`cache_folder`, or ``None`` to encode everything, uncached.
        batch_size: encoder batch size.
        progress: show the encoder's progress bar (on stderr).

    Returns:
        ``(vectors, encoded)``: a ``(len(texts), dim)`` float32 array and how many texts were encoded now.
    """
    keys = text_keys(model, texts, role)
    path = folder / f"{role}.npz" if folder is not None else None
    table = _load(path) if path is not None else {}
    missing = list(dict.fromkeys(k for k in keys if k not in table))
    if missing:
        text_of = dict(zip(keys, texts))
        fresh = _encode(model, [text_of[k] for k in missing], role, batch_size, progress)
        if path is not None:
            table = _load(path) | table  # keep what another process added meanwhile
        table.update(zip(missing, fresh))
        if path is not None:
            _save(path, table)
    if not keys:
        return np.zeros((0, 0), dtype=np.float32), 0
    return np.stack([table[k] for k in keys]).astype(np.float32, copy=False), len(missing)
