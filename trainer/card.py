"""``training_card.json``: what a trained model folder was made from, how, on what, and how it scored.

The card sits beside the sentence-transformers files, so a model folder carries its own recipe:
policy and alpha, data sets and languages, steps, seed, time, hardware, dev metrics and library
versions. ``trainer.report`` and the app read it to label models.
"""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
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
