"""Training throughput: pairs/s for the three batch policies, and the sampler + data pipeline share.

Builds the real training stack (``trainer.train.build_trainer``: HybridBatchSampler, the trainer's
data collator with the query/passage prompts, MultipleNegativesRankingLoss, AdamW) on MLQA-R dev,
then times steps by hand so the two halves of a step can be told apart:

- pipeline: drawing the next batch from the trainer's DataLoader (sampler + rows + tokenising);
- compute: ``trainer.training_step`` (forward, loss, backward) plus the optimizer step.

``pairs_per_second`` is the mean over the timed steps, ``pairs_per_second_best_step`` the fastest
step: on a machine shared with other jobs (see ``load_average_1_5_15``) the better guess of its speed.

A step with the pipeline is pipeline + compute; without it, compute alone on a batch already in
memory. Modes: CPU with every weight trained, CPU with frozen word embeddings, a rank-16 LoRA adapter
(with and without dropout, and with one hard negative per pair: a third column to encode,
``--hard-negatives``), and CUDA bf16 when a GPU is present (its name is recorded). Batch 32, max length 128 (the issue's settings); one warm-up
step, then ``--steps`` timed steps per policy and mode.

Usage: python bench/train_throughput.py [--steps 3] [--batch-size 32] [--max-seq-length 128]
Writes bench/results/train_throughput.json. Goal: pipeline < 5% of a CPU step.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpora.settings import get_settings  # noqa: E402
from trainer.card import hardware, library_versions  # noqa: E402
from trainer.train import TrainConfig, build_trainer, load_training_data, prepare_model  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "train_throughput.json"
POLICIES = ("xx", "xy", "hybrid")


def measure(config: TrainConfig, data, steps: int) -> dict:
    """Time ``steps`` training steps (after one warm-up step) for one policy and mode."""
    import torch

    settings = get_settings()
    policy = config.check()
    model, _ = prepare_model(config, settings)
    trainer = build_trainer(config, data, policy, model)
    model = trainer.model
    model.train()
    trainer.create_optimizer_and_scheduler(num_training_steps=steps + 1)
    trainer.current_gradient_accumulation_steps = 1  # set by the trainer's own loop, which we drive by hand
    batches = iter(trainer.get_train_dataloader())

    def step(inputs) -> float:
        loss = trainer.training_step(model, inputs)
        trainer.optimizer.step()
        trainer.optimizer.zero_grad()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return float(loss)

    step(next(batches))  # warm-up: allocations, kernel selection
    pipeline, compute, losses = [], [], []
    for _ in range(steps):
        started = time.perf_counter()
        inputs = next(batches)
        fetched = time.perf_counter()
        losses.append(step(inputs))
        pipeline.append(fetched - started)
        compute.append(time.perf_counter() - fetched)
    with_pipeline = float(np.mean(pipeline) + np.mean(compute))
    del trainer, model, batches
    gc.collect()  # six models one after another: free each before the next
    return {
        "pairs_per_second": round(config.batch_size / with_pipeline, 2),
        # the fastest step: on a shared machine the one least slowed down by other jobs
        "pairs_per_second_best_step": round(config.batch_size / float(np.min(np.add(pipeline, compute))), 2),
        "step_seconds": round(with_pipeline, 3),
        "step_seconds_without_pipeline": round(float(np.mean(compute)), 3),
        "pipeline_seconds": round(float(np.mean(pipeline)), 4),
        "pipeline_share": round(float(np.mean(pipeline)) / with_pipeline, 4),
        "loss": round(float(np.mean(losses)), 4),
    }


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per policy and mode (default 3)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--train", default="mlqa-r-dev")
    parser.add_argument("--modes", help="comma-separated subset of the modes (default: all)")
    parser.add_argument("--policies", default=",".join(POLICIES), help="comma-separated (default: all three)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    data = load_training_data([args.train], dev_groups=0, seed=0)
    with_negatives = None  # loaded only when a mode needs it: the paragraphs are read again
    device = "cuda_bf16" if torch.cuda.is_available() else "cpu"
    modes = {f"{device}_full": dict(freeze_embeddings=False),
             f"{device}_frozen_embeddings": dict(freeze_embeddings=True),
             # LoRA on every linear layer of the blocks (trainer.adapters): only the adapter trains
             f"{device}_lora_r16": dict(lora_rank=16),
             f"{device}_lora_r16_no_dropout": dict(lora_rank=16, lora_dropout=0.0),
             f"{device}_lora_r16_hard_negatives": dict(lora_rank=16, hard_negatives="question")}
    if args.modes:
        wanted = [m for m in args.modes.split(",") if m]
        unknown = set(wanted) - set(modes)
        if unknown:
            parser.error(f"unknown modes {sorted(unknown)}; valid: {', '.join(modes)}")
        modes = {m: modes[m] for m in wanted}
    results: dict[str, dict] = {mode: {} for mode in modes}
    with tempfile.TemporaryDirectory() as tmp:
        for policy in [p for p in args.policies.split(",") if p]:  # modes interleaved, so a change in the machine's load hits both alike
            for mode, extra in modes.items():
                config = TrainConfig(train=[args.train], out=Path(tmp) / mode / policy, policy=policy,
                                     batch_size=args.batch_size, max_seq_length=args.max_seq_length,
                                     max_steps=args.steps + 1, dev_groups=0, eval_steps=0, seed=0, **extra)
                if extra.get("hard_negatives") and with_negatives is None:
                    with_negatives = load_training_data([args.train], dev_groups=0, seed=0, hard_negatives="question")
                results[mode][policy] = measure(config, with_negatives if extra.get("hard_negatives") else data,
                                                args.steps)
                print(mode, policy, results[mode][policy], file=sys.stderr)
    shares = [r["pipeline_share"] for m in results.values() for r in m.values()]
    report = {
        "what": "training pairs/s per batch policy; pipeline = sampler + rows + tokenising, per step",
        "settings": {"batch_size": args.batch_size, "max_seq_length": args.max_seq_length, "timed_steps": args.steps,
                     "data": args.train, "rows": len(data.rows), "model": "base (multilingual-e5-small, untuned)"},
        "results": results,
        "pipeline_share_max": max(shares),
        "goal_pipeline_share_below": 0.05,
        "goal_met": max(shares) < 0.05,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "hardware": hardware(),
        "python": platform.python_version(),
        "libraries": library_versions(),
        "measured": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        # the machine is shared: a load above the core count means the figures are pessimistic
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
