"""Fine-tune the encoder with hybrid batches: corpora pairs -> sampler batches -> encoder + loss -> folder + card.

Built on sentence-transformers' ``SentenceTransformerTrainer``: the per-batch policy is entirely
the batch sampler's job (:class:`trainer.sampling.HybridBatchSampler`, handed to the trainer as
``batch_sampler``), so the trainer's own checkpointing, resuming, bf16 autocast, DDP (``torchrun`` /
``accelerate launch``), evaluation and early stopping apply unchanged; a hand-written loop would
have to redo all of that.

The loss is ``MultipleNegativesRankingLoss``: InfoNCE with in-batch negatives over one shared
encoder, logits = ``scale`` x cosine similarity, so ``scale = 1 / temperature``. e5 was pre-trained
at temperature 0.01 (scale 100); the default here is sentence-transformers' 20 (temperature 0.05),
which the data README's first quick run used.

Several GPUs: every process walks the same batch sequence and takes every n-th batch, so each GPU
trains on whole policy batches (negatives stay within one GPU's batch; the effective batch is
``batch_size`` x GPUs)::

    torchrun --nproc_per_node 4 -m trainer train --train mlqa-r-dev --out runs/hybrid
    accelerate launch --num_processes 4 -m trainer train --train mlqa-r-dev --out runs/hybrid
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from corpora.parallel import select_langs
from corpora.records import Pair
from corpora.settings import Settings, get_settings
from trainer.adapters import AdapterError, LoraSettings, add_lora
from trainer.card import TrainingCard
from trainer.dev import dev_evaluator, dev_task
from trainer.distill import build_teacher, distillation_loss
from trainer.errors import TrainerError
from trainer.pairs import HARD_NEGATIVE_SIDES, limit_groups, split_by_group, training_pairs
from trainer.pairs import hard_negatives as pick_hard_negatives
from trainer.progress import progress_callback
from trainer.sampling import BatchPolicy, HybridBatchSampler

# Sets that are benchmarks: training on them inflates the scores measured there.
_EVALUATION_SETS = {"xquad": "xquad-r", "xquad-r": "xquad-r", "milpac": "milpac"}


class TrainSetupError(TrainerError, ValueError):
    """The training run asked for cannot be set up (bad settings, no usable data, no checkpoint)."""





@dataclass
class TrainConfig:
    """One training run; every field is a ``python -m trainer train`` flag.

    Args:
        train: data set names (``corpora.registry``) or pairs ``.jsonl`` files.
        out: output folder: the trained model, ``training_card.json`` and ``checkpoints/``.
        policy, alpha, weighting: the batch policy (:class:`trainer.sampling.BatchPolicy`).
        langs: query languages to train on (default: all the data has).
        passage: ``sentence`` (answer sentence) or ``context`` (paragraph) as the passage.
        model: the encoder to start from (``base``, the untuned encoder; ``default``, a folder, a hub id).
        epochs: passes over the data; one epoch = questions / batch size batches (see sampling).
        batch_size: pairs per batch (per process).
        lr: peak learning rate (linear warmup over ``warmup`` of the steps, then linear decay).
        max_steps: stop after this many steps (overrides ``epochs``); -1: no limit.
        seed: seeds the model's training randomness and the sampler (``seed + epoch``).
        freeze_embeddings: keep the word embeddings fixed (96M of e5-small's 118M parameters): the
            optimizer updates a fifth of the weights, and languages absent from training keep their
            token vectors.
        max_seq_length: tokens per query/passage.
        scale: MultipleNegativesRankingLoss scale = 1 / temperature (e5 pre-training: 100).
        eval_steps: evaluate on the dev split every this many steps; 0: only at the end.
        patience: stop after this many evaluations without a better dev score; 0: never.
        save_steps: checkpoint every this many steps (default: ``eval_steps``, else 500).
        dev_groups: groups held out for the dev split (at most a tenth of the groups); 0: none.
        limit: train on this many groups only (a reproducible slice for quick runs).
        resume: continue from the last checkpoint in ``out/checkpoints``.
        logging_steps: log the loss every this many steps.
        lora_rank: train a LoRA adapter of this rank instead of all weights (0: full fine-tuning);
            the run folder then holds the adapter, not a copy of the base weights
            (:mod:`trainer.adapters`).
        lora_alpha, lora_dropout, lora_targets: the adapter's scale (default 2 x rank), dropout and
            target modules (``attention``, ``all``, or module names).
        distill: weight of a distillation term beside the ranking loss (0: none): every question and
            passage is pulled towards the untuned base model's embedding of its group's English side
            (:mod:`trainer.distill`).
        hard_negatives: ``"question"`` or ``"answer"``: give each row a hard negative in its question's
            (or its answer's) language: a sentence of the paragraph (or news story) around the answer
            that is not the answer (:func:`trainer.pairs.hard_negatives`); every row's negative joins
            the batch's candidates. ``None``: in-batch negatives only.
    """

    train: list[str]
    out: Path
    policy: str = "hybrid"
    alpha: float = 0.5
    weighting: str = "uniform"
    langs: list[str] | None = None
    passage: str = "sentence"
    model: str = "base"
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 3e-5
    warmup: float = 0.1
    max_steps: int = -1
    seed: int = 42
    freeze_embeddings: bool = False
    max_seq_length: int = 128
    scale: float = 20.0
    eval_steps: int = 100
    patience: int = 3
    save_steps: int | None = None
    dev_groups: int = 200
    limit: int | None = None
    resume: bool = False
    logging_steps: int = 10
    lora_rank: int = 0
    lora_alpha: float | None = None
    lora_dropout: float = 0.0
    lora_targets: str = "all"
    distill: float = 0.0
    hard_negatives: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # passed to SentenceTransformerTrainingArguments

    def check(self) -> BatchPolicy:
        """Validate the numbers; returns the batch policy. Raises TrainSetupError / BatchPolicyError."""
        if not self.train:
            raise TrainSetupError("no training data named; pass --train SET[,SET...]")
        for name, value, low in (("epochs", self.epochs, 0), ("lr", self.lr, 0), ("scale", self.scale, 0)):
            if not value > low:
                raise TrainSetupError(f"{name} must be > {low}, got {value}")
        if self.batch_size < 2:
            raise TrainSetupError(f"batch size must be at least 2 (in-batch negatives), got {self.batch_size}")
        if self.max_seq_length < 8:
            raise TrainSetupError(f"max sequence length must be at least 8 tokens, got {self.max_seq_length}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise TrainSetupError(f"max steps must be positive (or -1 for no limit), got {self.max_steps}")
        if self.passage not in ("sentence", "context"):
            raise TrainSetupError(f"passage must be 'sentence' or 'context', got {self.passage!r}")
        if self.limit is not None and self.limit < 1:
            raise TrainSetupError(f"limit must be a positive number of groups, got {self.limit}")
        if self.distill < 0:
            raise TrainSetupError(f"distill weight must be 0 (off) or positive, got {self.distill}")
        if self.hard_negatives is not None and self.hard_negatives not in HARD_NEGATIVE_SIDES:
            raise TrainSetupError(f"hard negatives come from the question's or the answer's side "
                                  f"({' or '.join(HARD_NEGATIVE_SIDES)}), not {self.hard_negatives!r}")
        if self.lora_rank < 0:
            raise TrainSetupError(f"LoRA rank must be positive (or 0 for full fine-tuning), got {self.lora_rank}")
        if self.lora is not None:
            try:
                self.lora.check()
            except AdapterError as exc:
                raise TrainSetupError(str(exc)) from exc
        return BatchPolicy(self.policy, self.alpha, self.weighting)

    @classmethod
    def from_card(cls, card: TrainingCard) -> TrainConfig:
        """The config a training card records, over this class's own defaults for keys it lacks."""
        values = {k: v for k, v in card.config.items() if k in cls.__dataclass_fields__}
        if isinstance(values.get("hard_negatives"), bool):  # cards from before the side was a choice
            values["hard_negatives"] = "question" if values["hard_negatives"] else None
        values.setdefault("train", card.sets)
        values.setdefault("out", card.model or ".")
        return cls(**values)

    @property
    def lora(self) -> LoraSettings | None:
        """The adapter to train, or ``None`` for full fine-tuning."""
        if not self.lora_rank:
            return None
        return LoraSettings(rank=self.lora_rank, alpha=self.lora_alpha, dropout=self.lora_dropout,
                            targets=self.lora_targets)


@dataclass
class TrainingData:
    """The rows the sampler draws (X-X and X-Y) and the held-out dev pairs."""

    sets: list[str]
    pairs: int  # pairs loaded (after --langs and --limit)
    rows: list[Pair]
    dev: list[Pair]
    group_sets: dict[str, str] = field(default_factory=dict)  # group -> the data set it came from
    negatives: list[str] = field(default_factory=list)  # one hard negative per row, or none at all
    negative_side: str | None = None  # whose language the negatives are in: "question", "answer"

    @property
    def languages(self) -> list[str]:
        return sorted({p.lang for p in self.rows})

    @cached_property
    def sources(self) -> list[str]:
        """The data set of each row (what ``--weighting set`` balances; "" for a group several sets share,
        which that weighting refuses). Computed once: the sampler is built twice (checked, then trained)."""
        return [self.group_sets.get(p.group, "") for p in self.rows]

    def describe(self) -> dict[str, Any]:
        return {
            "sets": self.sets,
            "pairs": self.pairs,
            "train_groups": len({p.group for p in self.rows}),
            "train_rows": len(self.rows),
            "xx_rows": sum(p.lang == p.passage_lang for p in self.rows),
            "xy_rows": sum(p.lang != p.passage_lang for p in self.rows),
            "dev_groups": len({p.group for p in self.dev}),
            "dev_pairs": len(self.dev),
            "languages": self.languages,
            "hard_negatives": self.negative_side,
        }


def load_training_data(
    sets: Sequence[str],
    *,
    langs: Sequence[str] | None = None,
    passage: str = "sentence",
    limit: int | None = None,
    dev_groups: int = 0,
    seed: int = 0,
    data_dir: str | Path | None = None,
    hard_negatives: str | None = None,
) -> TrainingData:
    """Load the training splits of ``sets``, keep ``langs`` (query languages), hold out dev groups;
    with ``hard_negatives`` ("question" or "answer"), one negative per row in that side's language
    (:func:`trainer.pairs.hard_negatives`).

    Raises:
        corpora.registry.UnknownDataset / DataNotFound: a set is unknown or absent.
        TrainSetupError: a requested language has no pairs, or nothing is left to train on.
    """
    from corpora.registry import NoDistractors, data_set, load_distractors, load_pairs

    pairs: list[Pair] = []
    group_sets: dict[str, str] = {}
    for name in sets:
        if not str(name).endswith(".jsonl") and data_set(name).name in _EVALUATION_SETS:
            warnings.warn(f"{name} is (the source of) the {_EVALUATION_SETS[data_set(name).name]} benchmark: "
                          "scores measured there after training on it are inflated", stacklevel=2)
        loaded = load_pairs(name, passage=passage, data_dir=data_dir)
        key = str(name)
        for group in {p.group for p in loaded}:
            # Two files may share group ids on purpose (one question's languages split across files);
            # such a group belongs to no single set, which --weighting set refuses (the sampler).
            group_sets[group] = key if group_sets.get(group, key) == key else ""
        pairs += loaded
    if langs:
        try:
            wanted = set(select_langs(langs, sorted({p.lang for p in pairs}), ",".join(sets)))
        except ValueError as exc:
            raise TrainSetupError(str(exc).replace("is not in", "has no pairs in")) from exc
        pairs = [p for p in pairs if p.lang in wanted]
    pairs = limit_groups(pairs, limit, seed)
    if not pairs:
        raise TrainSetupError(f"no training pairs in {','.join(sets)}")
    n_groups = len({p.group for p in pairs})
    train, dev = split_by_group(pairs, min(dev_groups, n_groups // 10), seed)
    rows = training_pairs(train)
    negatives: list[str] = []
    if hard_negatives:
        distractors: dict[tuple[str, str], list[str]] = {}
        for name in sets:
            try:
                distractors.update(load_distractors(name, data_dir=data_dir))
            except NoDistractors as exc:
                raise TrainSetupError(f"--hard-negatives: {exc}") from exc
        # a dev answer may sit in a training question's paragraph: keep it out of training altogether
        held_out = {p.passage for p in dev}
        distractors = {key: [t for t in texts if t not in held_out] for key, texts in distractors.items()}
        try:
            negatives = pick_hard_negatives(rows, distractors, seed, side=hard_negatives)
        except ValueError as exc:
            raise TrainSetupError(f"--hard-negatives: {exc}") from exc
    return TrainingData(list(sets), len(pairs), rows, dev, group_sets=group_sets, negatives=negatives,
                        negative_side=hard_negatives if negatives else None)


def _best_evaluation(state: Any) -> dict[str, float]:
    """The dev figures of the checkpoint training ended on (the best one, reloaded), as the trainer
    logged them: evaluating it again would cost a whole dev pass (10 minutes on 2 slow cores) for the
    same numbers. Empty when no evaluation ran."""
    for entry in state.log_history:
        if entry.get("step") == state.best_global_step and "eval_dev_map_avg" in entry:
            return {k.removeprefix("eval_"): v for k, v in entry.items() if k.startswith("eval_dev_")}
    return {}


def make_sampler(data: TrainingData, policy: BatchPolicy, batch_size: int, seed: int = 0) -> HybridBatchSampler:
    """The sampler over ``data.rows``; raises BatchPolicyError when the policy cannot use the data."""
    return HybridBatchSampler(data.rows, batch_size, False, seed=seed, pairs=data.rows, policy=policy,
                              sources=data.sources)


def _checkpoints(folder: Path) -> list[Path]:
    return sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.rsplit("-", 1)[-1]))


def prepare_model(config: TrainConfig, settings: Settings):
    """The encoder to train, set up for ``config``; returns ``(model, its own max_seq_length)``."""
    from trainer.encoder import load_encoder

    from trainer.adapters import is_adapter_folder
    from trainer.encoder import resolve_model

    if is_adapter_folder(resolve_model(config.model, settings)):
        # PEFT would freeze every base weight under the loaded adapter and save only that adapter
        raise TrainSetupError(f"--model {config.model} is an adapter (base + LoRA); train from `base` or a full "
                              "model folder, or merge the adapter into a full model first")
    # An adapter is trained on unfused base weights: PEFT must see its own layers, not merged ones.
    model = load_encoder(config.model, settings=settings, fuse=False)
    inference_max_length = model.max_seq_length
    model.max_seq_length = config.max_seq_length
    backbone = model[0].auto_model
    if config.lora is not None:
        add_lora(model, config.lora)  # PEFT freezes every base weight
        return model, inference_max_length
    if config.freeze_embeddings:
        backbone.get_input_embeddings().weight.requires_grad_(False)
    if getattr(backbone, "pooler", None) is not None:
        # BERT's pooler feeds no loss under mean pooling; frozen, DDP need not hunt for unused parameters
        backbone.pooler.requires_grad_(False)
    return model, inference_max_length


def _teacher(data: TrainingData, student, settings: Settings):
    """The distillation targets, encoded by the untuned base model on this process's own device (under
    torchrun each rank computes them, on its GPU; they are a few thousand English texts), then freed."""
    import gc
    import os

    import torch

    from trainer.encoder import load_encoder

    device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if torch.cuda.is_available() else "cpu"
    base = load_encoder("base", settings=settings, device=device)
    teacher = build_teacher(data.rows, base, cache_root=settings.cache)
    del base
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    dim = student.get_embedding_dimension()
    if teacher.vectors.shape[1] != dim:
        raise TrainSetupError(f"--distill: the base model embeds in {teacher.vectors.shape[1]} dimensions, the model "
                              f"trained here in {dim}; distillation needs the same space")
    return teacher


def build_trainer(config: TrainConfig, data: TrainingData, policy: BatchPolicy, model, *, evaluator=None,
                  teacher=None):
    """The ``SentenceTransformerTrainer`` for one run: hybrid batch sampler, MNRL loss (plus distillation
    towards ``teacher``, a :class:`trainer.distill.Teacher`, when ``config.distill``), dev evaluation."""
    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import (
        MultipleNegativesRankingLoss,
    )
    from transformers import EarlyStoppingCallback
    from transformers.trainer_callback import ProgressCallback

    cuda = torch.cuda.is_available()
    prompts = model.prompts or {}
    column_prompts = {"anchor": prompts.get("query", ""),
                      "positive": prompts.get("document") or prompts.get("passage", "")}
    columns = {"anchor": [p.query for p in data.rows], "positive": [p.passage for p in data.rows]}
    if data.negatives:  # MNRL scores every anchor against the batch's positives and negatives alike
        columns["negative"] = data.negatives
        column_prompts["negative"] = column_prompts["positive"]
    if teacher is not None:
        columns["label"] = list(range(len(data.rows)))  # the row, so the loss finds its teacher vectors
    dataset = Dataset.from_dict(columns)
    evaluate = evaluator is not None and config.eval_steps > 0
    save_steps = config.save_steps or (config.eval_steps if evaluate else 500)
    if evaluate and save_steps % config.eval_steps:
        raise TrainSetupError(f"save steps ({save_steps}) must be a multiple of eval steps ({config.eval_steps})")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(Path(config.out) / "checkpoints"),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.lr,
        warmup_steps=config.warmup,
        seed=config.seed,
        use_cpu=not cuda,  # also what makes torchrun on CPU a gloo DDP run
        bf16=cuda and torch.cuda.is_bf16_supported(),
        dataloader_pin_memory=cuda,
        dataloader_num_workers=2 if cuda else 0,  # tokenising beside a GPU step; on CPU it would steal its cores
        batch_sampler=partial(HybridBatchSampler, pairs=data.rows, policy=policy, sources=data.sources),
        prompts=column_prompts,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=config.eval_steps if evaluate else None,
        save_strategy="steps",
        save_steps=save_steps,
        save_total_limit=2,
        load_best_model_at_end=evaluate,
        metric_for_best_model="eval_dev_map_avg" if evaluate else None,
        greater_is_better=True,
        logging_steps=config.logging_steps,
        logging_first_step=True,
        report_to="none",
        ddp_find_unused_parameters=False,
        **config.extra,
    )
    callbacks = [EarlyStoppingCallback(config.patience)] if evaluate and config.patience > 0 else []
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=dataset,
        loss=(MultipleNegativesRankingLoss(model, scale=config.scale) if teacher is None
              else distillation_loss(model, teacher, scale=config.scale, weight=config.distill)),
        evaluator=evaluator if evaluate else None, callbacks=callbacks,
    )
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(progress_callback(config.batch_size * args.world_size))
    return trainer


def train(config: TrainConfig, *, settings: Settings | None = None) -> Path:
    """Train one model; returns the output folder (a sentence-transformers model + training card).

    Raises:
        A ``PolylexError`` (``TrainSetupError``, ``BatchPolicyError``, ``UnknownDataset``, ``DataNotFound``,
        ``JsonlFormatError``, ``EncoderNotFound``, ``AdapterError``) for bad settings or data, before
        any training starts.
    """
    from trainer.card import hardware, library_versions, write_card

    settings = settings or get_settings()
    policy = config.check()
    out = Path(config.out)
    checkpoints = out / "checkpoints"
    if config.resume and not _checkpoints(checkpoints):
        raise TrainSetupError(f"nothing to resume: {checkpoints} holds no checkpoint")
    if not config.resume and _checkpoints(checkpoints):
        raise TrainSetupError(f"{out} already holds checkpoints; add --resume to continue, or choose another --out")

    data = load_training_data(config.train, langs=config.langs, passage=config.passage, limit=config.limit,
                              dev_groups=config.dev_groups, seed=config.seed, data_dir=settings.data,
                              hard_negatives=config.hard_negatives)
    sampler = make_sampler(data, policy, config.batch_size, config.seed)  # fails on unusable data before the model loads

    started = time.time()
    model, inference_max_length = prepare_model(config, settings)
    evaluator = (dev_evaluator(dev_task(data.dev, passage=config.passage, data_dir=settings.data), batch_size=64)
                 if data.dev else None)
    teacher = None
    if config.distill:
        teacher = _teacher(data, model, settings)
    trainer = build_trainer(config, data, policy, model, evaluator=evaluator, teacher=teacher)
    evaluate = trainer.args.eval_strategy != "no"

    resumed_from = str(_checkpoints(checkpoints)[-1]) if config.resume else None
    result = trainer.train(resume_from_checkpoint=resumed_from)
    dev_metrics = _best_evaluation(trainer.state) if evaluate else {}
    if not dev_metrics and evaluator is not None and trainer.is_world_process_zero():
        dev_metrics = evaluator(model)  # no evaluation during training: the end is the first
    model.max_seq_length = inference_max_length  # the training length is a training choice, not the model's limit
    trainer.save_model(str(out))

    if trainer.is_world_process_zero():
        state = trainer.state
        losses = [(h["step"], h["loss"]) for h in state.log_history if "loss" in h]
        write_card(out, {
            "model": str(out),
            "base_model": config.model,
            "policy": policy.name,
            "alpha": policy.xx_probability,
            "weighting": policy.weighting,
            "data": {**data.describe(), "passage": config.passage, "limit": config.limit},
            "languages": sampler.describe()["languages"],
            "steps": state.global_step,
            "epochs": round(state.epoch or 0.0, 4),
            "batches_per_epoch": len(sampler),  # over all processes together
            "seed": config.seed,
            "hyperparameters": {
                "batch_size": config.batch_size, "lr": config.lr, "warmup": config.warmup, "epochs": config.epochs,
                "max_steps": config.max_steps, "max_seq_length": config.max_seq_length, "scale": config.scale,
                "temperature": 1 / config.scale, "freeze_embeddings": config.freeze_embeddings,
                "eval_steps": config.eval_steps, "patience": config.patience, "distill": config.distill,
                "hard_negatives": config.hard_negatives,
            },
            "adapter": ({**config.lora.describe(), "format": "peft-lora",
                         "parameters": sum(p.numel() for n, p in model.named_parameters() if "lora_" in n)}
                        if config.lora is not None else None),
            "loss": {"first": losses[0][1] if losses else None, "last": losses[-1][1] if losses else None,
                     "history": losses},
            "dev": dev_metrics,
            "dev_history": [{k: v for k, v in h.items() if k.startswith("eval_dev_") or k == "step"}
                            for h in state.log_history if "eval_dev_map_avg" in h],
            "best_checkpoint": state.best_model_checkpoint,
            "stopped_early": evaluate and state.global_step < state.max_steps,
            "resumed_from": resumed_from,
            "time": {
                "started": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
                "seconds": round(time.time() - started, 1),
                "train_seconds": round(result.metrics.get("train_runtime", 0.0), 1),
                "pairs_per_second": round(result.metrics.get("train_samples_per_second", 0.0), 2),
            },
            "hardware": hardware(trainer.args.world_size),
            "libraries": library_versions(),
            "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        })
    return out
