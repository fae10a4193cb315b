"""Average LoRA adapters in weight space (a "model soup", arXiv 2203.05482) into one full encoder folder.

Two adapters trained from the same base by different recipes (the shipped default and its
answer-side hard-negative variant, say) are two deltas on the same weights; their mean,
``base + sum(w_i * delta_i)``, often keeps most of what each recipe gained. Measurement only: the
result is a full 470 MB model folder under runs/ (never shipped; an adapter soup of rank 16 + 16
would be a rank-32 adapter, 10 MB, over the 8 MB budget). Each adapter folder's own merge weight
(``trainer merge``) is already in its ``lora_B`` matrices. PEFT merges each adapter into the base
weights (``trainer.adapters.attach``), so any LoRA variant PEFT loads averages correctly.

Usage::

    python scripts/adapter_soup.py --adapters models/polylex-hybrid runs/lora-mixset-distill05-hna-merged \\
        --out runs/soup-shipped-hna
    python -m trainer evaluate --model runs/soup-shipped-hna --benchmark xquad-r --json reports/soup/xquad-r.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.adapters import adapter_base
from trainer.encoder import load_encoder

if TYPE_CHECKING:
    import torch


def weights_of(spec: str | Path) -> dict[str, torch.Tensor]:
    """The encoder's transformer weights, an adapter merged in by PEFT (``load_encoder`` fuses it), under
    the base model's names (PEFT keeps a merged layer's weight as ``<layer>.base_layer.weight``)."""
    state = load_encoder(str(spec), device="cpu")[0].auto_model.state_dict()
    return {name.replace(".base_layer.", "."): value for name, value in state.items() if ".lora_" not in name}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapters", nargs="+", type=Path, required=True, help="LoRA adapter folders on the same base")
    parser.add_argument("--weights", nargs="+", type=float, help="one per adapter (default: equal, summing to 1)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the full averaged model")
    args = parser.parse_args(argv)
    weights = args.weights or [1 / len(args.adapters)] * len(args.adapters)
    if len(weights) != len(args.adapters):
        parser.error("--weights needs one weight per adapter")
    if args.out.exists():
        parser.error(f"{args.out} exists; choose another --out")
    bases = {adapter_base(folder) for folder in args.adapters}
    if len(bases) != 1:
        parser.error(f"the adapters were trained on different bases ({', '.join(sorted(bases))}); their deltas do not add")
    model = load_encoder(bases.pop(), device="cpu")
    state = model[0].auto_model.state_dict()  # the model's own tensors: adding to them changes the model
    base = {name: value.clone() for name, value in state.items()}
    for folder, weight in zip(args.adapters, weights):
        tuned = weights_of(folder)
        if tuned.keys() != base.keys():
            raise SystemExit(f"{folder}: its weights are not those of the base encoder")
        for name, value in state.items():
            if value.is_floating_point():
                value += weight * (tuned[name] - base[name])
    model.save(str(args.out))
    (args.out / "soup.json").write_text(json.dumps(
        {"adapters": [str(f) for f in args.adapters], "weights": weights}, indent=2) + "\n")
    print(args.out)


if __name__ == "__main__":
    main()
