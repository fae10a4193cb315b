"""Weight interpolation between the base encoder and a fine-tuned one (WiSE-FT, arXiv 2109.01903).

Fine-tuning on a few thousand Wikipedia questions in seven languages removes most of the language
bias, but it costs some monolingual quality and narrows the model towards its training data. The
straight line between the two weight sets, ``(1 - w) * base + w * tuned``, often keeps most of
both (the two models share one pre-trained basin), and it costs no training. ``w`` is chosen on
the run's own dev split, rebuilt from its training card, never on an evaluation benchmark.

A LoRA run (``trainer train --lora-rank R``) is merged the same way: its base is the straight
line's start, so ``(1 - w) * base + w * (base + delta)`` is ``base + w * delta``; in the adapter's
own terms every ``lora_B`` matrix is scaled by ``w`` (``delta = B @ A * alpha / r``). The result is
again an adapter folder of the same size, not a full copy of the weights.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpora.settings import Settings, get_settings
from trainer.card import base_of
from trainer.errors import TrainerError

DEFAULT_GRID = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class MergeError(TrainerError, ValueError):
    """The two models cannot be interpolated, or the tuned folder is not a training run."""


@dataclass
class MergeResult:
    """The chosen weight, its dev scores, and every weight tried (in grid order)."""

    weight: float
    dev: dict[str, float]
    sweep: list[dict[str, Any]] = field(default_factory=list)


def interpolate(base: dict, tuned: dict, weight: float) -> dict:
    """``(1 - weight) * base + weight * tuned`` for every floating tensor; others come from ``tuned``.

    Raises:
        MergeError: the state dicts differ in names or shapes (not the same architecture).
    """
    if base.keys() != tuned.keys():
        missing = sorted(base.keys() ^ tuned.keys())[:3]
        raise MergeError(f"the models have different weights (e.g. {', '.join(missing)}); "
                         "only a model and its own fine-tuned copy can be interpolated")
    merged = {}
    for name, b in base.items():
        t = tuned[name]
        if b.shape != t.shape:
            raise MergeError(f"weight {name} has shape {tuple(b.shape)} in the base, {tuple(t.shape)} in the tuned model")
        merged[name] = (b + (t - b) * weight) if t.is_floating_point() else t.clone()
    return merged


def adapter_start(state: dict) -> dict:
    """The straight line's start for an adapter model's state: the same weights with every
    ``lora_B`` at zero, i.e. the adapter switched off (the base model)."""
    return {name: (value.new_zeros(value.shape) if ".lora_B." in name else value) for name, value in state.items()}


def _card_of(tuned: Path) -> dict[str, Any]:
    from trainer.card import TrainingCard

    card = TrainingCard.load(tuned)
    if card is None or not card.config:
        raise MergeError(f"{tuned} has no training card with its config; merge needs a folder written by "
                         "`python -m trainer train`")
    return card.to_dict()


def dev_split(card: dict[str, Any], settings: Settings):
    """The held-out dev pairs of the run ``card`` describes, rebuilt the way training built them
    (the card's config over ``TrainConfig``'s own defaults: the same seed and dev groups)."""
    from trainer.card import TrainingCard
    from trainer.train import TrainConfig, load_training_data

    config = TrainConfig.from_card(TrainingCard.from_dict(card))
    data = load_training_data(config.train, langs=config.langs, passage=config.passage, limit=config.limit,
                              dev_groups=config.dev_groups, seed=config.seed, data_dir=settings.data)
    if not data.dev:
        raise MergeError("the run held out no dev split (dev_groups 0), so no weight can be chosen; pass --weight")
    return data.dev


def dev_task(card: dict[str, Any], settings: Settings):
    """The dev task the run itself was scored on (``trainer.dev.dev_task``), rebuilt from its card."""
    from trainer.dev import dev_task as build

    return build(dev_split(card, settings), passage=card["config"].get("passage", "sentence"), data_dir=settings.data)


def sweep(tuned: str | Path, grid: tuple[float, ...] = DEFAULT_GRID, *, base: str | None = None,
          settings: Settings | None = None, progress: bool = True) -> MergeResult:
    """Score each weight of ``grid`` on the run's dev task (``dev_task``); the best ``dev_map_avg`` wins.

    ``dev_map_avg`` (mean of mono-, cross- and multilingual mAP) is the score training already
    uses to keep its best checkpoint; ties go to the smaller weight (closer to the base model).
    """
    from tqdm.auto import tqdm

    from trainer.adapters import is_adapter_folder
    from trainer.encoder import load_encoder
    from trainer.dev import dev_evaluator

    settings = settings or get_settings()
    tuned = Path(tuned)
    card = _card_of(tuned)
    evaluator = dev_evaluator(dev_task(card, settings), batch_size=64)
    model = load_encoder(str(tuned), settings=settings, fuse=False)
    tuned_state = copy.deepcopy(model.state_dict())
    if is_adapter_folder(tuned):
        base_state = adapter_start(tuned_state)
    else:
        base_state = load_encoder(base or base_of(card), settings=settings).state_dict()
    rows = []
    for weight in tqdm(grid, desc="weights", disable=not progress):
        model.load_state_dict(interpolate(base_state, tuned_state, weight))
        scores = evaluator(model)
        rows.append({"weight": weight, **{k.removeprefix("dev_"): v for k, v in scores.items()}})
    best = max(rows, key=lambda r: (round(r["map_avg"], 6), -r["weight"]))
    return MergeResult(best["weight"], {k: v for k, v in best.items() if k != "weight"}, rows)


def check_out(tuned: str | Path, out: str | Path) -> None:
    """Refuse an ``out`` that would overwrite the run or any other non-empty folder (a trained model
    lost to a typo takes hours to make again). Called before the sweep, so a bad --out fails at once."""
    tuned, out = Path(tuned), Path(out)
    if out.resolve() == tuned.resolve():
        raise MergeError("--out must be a new folder; the tuned run stays as it is")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MergeError(f"{out} already exists and is not empty; choose a new --out (nothing was overwritten)")


def merge(tuned: str | Path, out: str | Path, weight: float, *, base: str | None = None,
          settings: Settings | None = None, result: MergeResult | None = None) -> Path:
    """Write the interpolated model to ``out`` with a training card that records the merge.

    Raises:
        MergeError: ``weight`` outside [0, 1], ``out`` is the tuned folder or another non-empty
            one (``check_out``), or the models differ.
    """
    from trainer.adapters import is_adapter_folder, save_adapter
    from trainer.card import write_card
    from trainer.encoder import load_encoder

    if not 0.0 <= weight <= 1.0:
        raise MergeError(f"weight must be between 0 (base) and 1 (tuned), got {weight}")
    settings = settings or get_settings()
    tuned, out = Path(tuned), Path(out)
    check_out(tuned, out)
    card = _card_of(tuned)
    base = base or base_of(card)
    model = load_encoder(str(tuned), settings=settings, fuse=False)
    if is_adapter_folder(tuned):
        state = model.state_dict()
        model.load_state_dict(interpolate(adapter_start(state), state, weight))
        save_adapter(model, out)
    else:
        model.load_state_dict(interpolate(load_encoder(base, settings=settings).state_dict(), model.state_dict(), weight))
        model.save(str(out))
    merged_card = {**card, "model": str(out), "merge": {
        "method": ("linear weight interpolation (WiSE-FT, arXiv 2109.01903)" if not is_adapter_folder(tuned) else
                   "WiSE-FT (arXiv 2109.01903) on a LoRA adapter: its delta scaled by the weight"),
        "base": base, "tuned": str(tuned), "weight": weight,
        "chosen_on": "dev split" if result else "given",
        "sweep": result.sweep if result else [],
    }}
    if result:
        merged_card["dev"] = {f"dev_{k}": v for k, v in result.dev.items()}
    merged_card.pop("best_checkpoint", None)
    write_card(out, merged_card)
    return out
