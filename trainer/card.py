"""``training_card.json``: what a trained model folder was made from, how, on what, and how it scored.

The card sits beside the sentence-transformers files (or the adapter files), so a model folder
carries its own recipe: policy and alpha, data sets and languages, steps, seed, time, hardware, dev
metrics and library versions. :class:`TrainingCard` is the typed view every reader uses
(``TrainingCard.load(folder)``): it accepts cards written by older versions, and
``trainer.train.TrainConfig.from_card`` gives the run's config back with ``TrainConfig``'s own
defaults, so no reader invents fallbacks of its own.
"""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CARD_NAME = "training_card.json"
LIBRARIES = ("torch", "transformers", "sentence-transformers", "accelerate", "datasets", "tokenizers", "numpy")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def hardware(world_size: int = 1) -> dict[str, Any]:
    """The device training ran on: GPU name and count when CUDA is used, else the CPU."""
    import torch

    info: dict[str, Any] = {
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "processes": world_size,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["gpu_count"] = torch.cuda.device_count()
        info["bf16"] = torch.cuda.is_bf16_supported()
    return info


def write_card(folder: str | Path, card: dict[str, Any]) -> Path:
    path = Path(folder) / CARD_NAME
    path.write_text(json.dumps(card, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def read_card(folder: str | Path) -> dict[str, Any] | None:
    """The card of a model folder, or ``None`` when it has none (e.g. the base model)."""
    path = Path(folder) / CARD_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def base_of(card: dict[str, Any]) -> str:
    """The model spec a run started from. Cards written before ``default`` meant base + shipped
    adapter say ``default`` for the untuned encoder, which is now ``base``."""
    spec = card.get("base_model") or "base"
    return "base" if spec in ("default", "intfloat/multilingual-e5-small") else spec


@dataclass
class TrainingCard:
    """The typed view of ``training_card.json``; unknown keys are kept in ``extra``.

    ``config`` is the run's ``TrainConfig`` as written (a dict); ``TrainConfig.from_card`` rebuilds
    it with ``TrainConfig``'s defaults for keys an older card lacks.
    """

    model: str = ""
    base_model: str = "base"
    policy: str | None = None
    alpha: float | None = None
    steps: int | None = None
    seed: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    dev: dict[str, float] = field(default_factory=dict)
    time: dict[str, Any] = field(default_factory=dict)
    hardware: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    adapter: dict[str, Any] | None = None
    merge: dict[str, Any] | None = None
    shipped: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, card: dict[str, Any]) -> TrainingCard:
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        values = {k: v for k, v in card.items() if k in known and v is not None}
        values["base_model"] = base_of(card)
        return cls(**values, extra={k: v for k, v in card.items() if k not in known})

    @classmethod
    def load(cls, folder: str | Path) -> TrainingCard | None:
        """The card of a model folder, or ``None`` when it has none (e.g. the base model).

        Raises:
            ValueError: the file is not JSON (a damaged card).
        """
        card = read_card(folder)
        return None if card is None else cls.from_dict(card)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "extra"}
        return {**self.extra, **{k: v for k, v in out.items() if v is not None}}

    @property
    def sets(self) -> list[str]:
        sets = self.data.get("sets") or self.config.get("train") or []
        return [str(s) for s in sets] if isinstance(sets, (list, tuple)) else [str(sets)]

    @property
    def label(self) -> str:
        """How the app names the run: batches, data, steps, merge and adapter in one phrase."""
        policy = self.policy or "?"
        if policy == "hybrid" and self.alpha is not None:
            policy = f"hybrid α={self.alpha:g}"
        parts = [f"trained: {policy}"]
        if self.sets:
            parts.append(f"on {','.join(self.sets)}")
        steps = self.steps if self.steps is not None else "?"
        parts.append(f"{steps} step{'' if steps == 1 else 's'}")
        if self.adapter:
            parts.append(f"LoRA rank {self.adapter.get('rank')}")
        if self.merge and "weight" in self.merge:
            parts.append(f"merged with the base model at w={self.merge['weight']:g}")
        return ", ".join(parts)
