"""Average LoRA adapters in weight space (a "model soup", arXiv 2203.05482) into one full encoder folder.

Two adapters trained from the same base by different recipes (the shipped default and its
answer-side hard-negative variant, say) are two deltas on the same weights; their mean,
``base + sum(w_i * delta_i)``, often keeps most of what each recipe gained. Measurement only: the
result is a full 470 MB model folder under runs/ (never shipped; an adapter soup of rank 16 + 16
would be a rank-32 adapter, 10 MB, over the 8 MB budget). Each adapter folder's own merge weight
(``trainer merge``) is already in its ``lora_B`` matrices.

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

from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.adapters import ADAPTER_CONFIG, ADAPTER_WEIGHTS, adapter_base
from trainer.encoder import load_encoder

if TYPE_CHECKING:
    import torch

_PREFIX = "base_model.model."  # PEFT's prefix on the adapter's keys; the transformer's own names follow


def deltas(folder: Path) -> dict[str, torch.Tensor]:
    """``name of a base weight -> B @ A * alpha / r`` for every layer the adapter changes.

    Only what that formula covers is accepted: plain LoRA on linear layers, one alpha and rank for
    all of them, nothing trained besides the A and B matrices (else the soup would drop it unsaid).
    """
    config = json.loads((folder / ADAPTER_CONFIG).read_text())
    plain = (config.get("peft_type") == "LORA" and not config.get("use_rslora") and not config.get("use_dora")
             and not config.get("fan_in_fan_out") and not config.get("alpha_pattern") and not config.get("rank_pattern")
             and config.get("bias", "none") == "none" and not config.get("lora_bias")
             and not config.get("modules_to_save") and not config.get("trainable_token_indices"))
    if not plain:
        raise SystemExit(f"{folder}: only plain LoRA adapters (one rank and alpha, no biases or saved modules) can be averaged")
    scale = config["lora_alpha"] / config["r"]
    weights = load_file(str(folder / ADAPTER_WEIGHTS))
    others = [key for key in weights if ".lora_A.weight" not in key and ".lora_B.weight" not in key]
    if others:
        raise SystemExit(f"{folder}: weights this script cannot average, e.g. {others[0]}")
    out = {}
    for key, a in weights.items():
        if ".lora_A." in key:
            b = weights[key.replace(".lora_A.", ".lora_B.")]
            out[key.removeprefix(_PREFIX).replace(".lora_A.", ".")] = (b @ a) * scale
    if not out:
        raise SystemExit(f"{folder}: no LoRA weights")
    return out


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
    bases = {str(folder): adapter_base(folder) for folder in args.adapters}
    if set(bases.values()) != {"base"}:
        parser.error(f"every adapter must have been trained on the untuned encoder (base); found {bases}")
    model = load_encoder("base", device="cpu")
    transformer = model[0].auto_model
    state = transformer.state_dict()
    for folder, weight in zip(args.adapters, weights):
        for name, delta in deltas(folder).items():
            if name not in state:
                raise SystemExit(f"{folder}: {name} is not a weight of the base encoder")
            state[name] += weight * delta
    model.save(str(args.out))
    (args.out / "soup.json").write_text(json.dumps(
        {"adapters": [str(f) for f in args.adapters], "weights": weights}, indent=2) + "\n")
    print(args.out)


if __name__ == "__main__":
    main()
