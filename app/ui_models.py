"""Models tab: the default encoder and every trained model, their evaluation reports, how to train another.

A trained model is a folder under ``settings.runs`` with a ``training_card.json``. Its evaluation
reports are the ``REPORT.md`` files that ``python -m trainer evaluate --report DIR`` writes, looked
for inside the model folder (e.g. ``runs/NAME/eval/xquad-r/REPORT.md``, the place the command
shown here writes to). Report plots are inlined as data URIs, so no model folder is served over HTTP.

The train button exists only where CUDA is available: on a CPU a useful run takes hours, and the
page shows the command to run in a terminal instead.
"""

from __future__ import annotations

import base64
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import gradio as gr
import pandas as pd

from app import ui_errors, ui_resources

REPORT_NAME = "REPORT.md"
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_REPO_ROOT = Path(__file__).resolve().parent.parent
_training_lock = threading.Lock()


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def reports_of(folder: Path | None) -> list[Path]:
    """``REPORT.md`` files inside a model folder (checkpoints excluded), sorted."""
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob(REPORT_NAME) if "checkpoints" not in p.relative_to(folder).parts)


def base_model_reports() -> list[Path]:
    """Reports of the base encoder: ``<runs>/base/**/REPORT.md`` and the project's ``reports/REPORT.md``."""
    found = reports_of(ui_resources.settings().runs.expanduser() / "base")
    project = _REPO_ROOT / "reports" / REPORT_NAME
    return found + ([project] if project.is_file() else [])


def inline_images(markdown: str, folder: Path) -> str:
    """Replace relative PNG links of a report by data URIs (missing files stay as they are)."""
    def replace(match: re.Match) -> str:
        alt, target = match.group(1), match.group(2)
        path = (folder / target).resolve()
        if target.startswith(("http:", "https:", "data:")) or path.suffix.lower() != ".png" or not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"![{alt}](data:image/png;base64,{data})"
    return _IMAGE.sub(replace, markdown)


def _fmt(value: object, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "" if value is None else str(value)


def models_table() -> pd.DataFrame:
    rows = []
    library = ui_resources.library_model_spec()
    for option in ui_resources.model_options():
        card = option.card or {}
        dev = card.get("dev", {}) or {}
        dev_map = next((v for k, v in dev.items() if "map" in k.lower() and isinstance(v, float)), None)
        reports = reports_of(option.folder) if option.folder else base_model_reports()
        rows.append({
            "Model": option.label,
            "Batches": card.get("policy", "—" if option.folder is None else "?")
                       + (f" α={card['alpha']:g}" if card.get("policy") == "hybrid" and card.get("alpha") is not None else ""),
            "Trained on": ",".join(card.get("data", {}).get("sets", []) or []) if card else "",
            "Steps": card.get("steps", ""),
            "Dev mAP": _fmt(dev_map),
            "Trained": (card.get("time", {}) or {}).get("started", "") if card else "",
            "Reports": len(reports),
            "Library": "in use" if option.spec == library else "",
        })
    return pd.DataFrame(rows, columns=["Model", "Batches", "Trained on", "Steps", "Dev mAP", "Trained", "Reports", "Library"])


def model_choices() -> dict:
    options = ui_resources.model_options()
    return gr.update(choices=[(o.label, o.spec) for o in options], value=options[-1].spec if options else None)


def show_model(spec: str | None) -> str:
    """Markdown: the model's training card in brief, then each of its evaluation reports with plots."""
    if not spec:
        return "Choose a model above."
    option = next((o for o in ui_resources.model_options() if o.spec == spec), None)
    if option is None:
        return f"No model {spec!r} here any more (was its folder moved?)."
    parts = [f"### {option.label}"]
    if option.card:
        card = option.card
        hp = card.get("hyperparameters", {}) or {}
        parts.append(
            f"Started from `{card.get('base_model', '?')}`; batches **{card.get('policy', '?')}**"
            + (f" (α = {card.get('alpha')}: share of same-language X-X batches)" if card.get("policy") == "hybrid" else "")
            + f"; data {', '.join(card.get('data', {}).get('sets', []) or ['?'])}; {card.get('steps', '?')} steps, "
            f"batch size {hp.get('batch_size', '?')}, learning rate {hp.get('lr', '?')}, seed {card.get('seed', '?')}; "
            f"{(card.get('hardware', {}) or {}).get('device', '?')}, "
            f"{(card.get('time', {}) or {}).get('seconds', '?')} s. Folder: `{option.folder}`.")
    if spec == "default":
        card_text = (option.folder / "README.md") if option.folder else None
        if card_text is not None and card_text.is_file():
            body = card_text.read_text(encoding="utf-8").split("\n", 1)[-1]  # its own title repeats the label
            parts.append(body.replace("\n## ", "\n#### "))
        else:
            parts.append("The shipped adapter's card is missing: the default model cannot be trusted until it is "
                         "restored (or choose the base encoder).")
    elif option.folder is None and spec == "base":
        parts.append("The untuned encoder: intfloat/multilingual-e5-small as released. It ranks passages in the "
                     "query's own language first (on all of XQuAD-R multilingual mAP 0.298, rank distance 1215); "
                     "the default model adds Polylex's fine-tuned adapter to remove most of that bias.")
    reports = (reports_of(option.folder) if option.folder and spec != "default" else
               base_model_reports() if spec == "base" else reports_of(ui_resources.settings().runs.expanduser() / spec))
    if not reports and spec != "default":
        named = option.folder and spec not in ("default", "base")
        target = f"{option.folder}/eval/xquad-r" if named else f"{ui_resources.settings().runs}/{spec}/eval/xquad-r"
        parts.append("No evaluation report for this model yet. Write one with:\n\n```bash\n"
                     f"python -m trainer evaluate --model {shlex.quote(spec)} --benchmark xquad-r "
                     f"--json {target}/result.json --report {target}\n```")
    for report in reports:
        text = report.read_text(encoding="utf-8")
        parts.append(f"---\n**Report** `{report}`\n\n" + inline_images(text, report.parent))
    return "\n\n".join(parts)


def train_command(name: str = "hybrid", train_sets: str = "mlqa-r-dev", policy: str = "hybrid",
                  alpha: float = 0.5) -> str:
    runs = ui_resources.settings().runs
    out = f"{runs}/{name}"
    alpha_flag = f" --alpha {alpha:g}" if policy == "hybrid" else ""
    return (f"python -m trainer train --train {train_sets} --policy {policy}{alpha_flag} --out {out}\n"
            f"python -m trainer evaluate --model {out} --benchmark xquad-r --json {out}/eval/xquad-r/result.json "
            f"--report {out}/eval/xquad-r")


def train_model(name: str, train_sets: str, policy: str, alpha: float, progress: gr.Progress = gr.Progress()):
    """Run ``python -m trainer train`` as a subprocess (GPU only); yields the log's tail as it grows."""
    if not cuda_available():
        raise ui_errors.refusal("Training from the page needs a CUDA GPU; on this machine run the command shown in a terminal.")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name or ""):
        raise ui_errors.refusal("Model name: letters, digits, '.', '_' or '-' only (it becomes the folder runs/NAME).")
    if not _training_lock.acquire(blocking=False):
        raise ui_errors.refusal("A training run started from this page is still going; wait for it to finish.")
    try:
        out = ui_resources.settings().runs / name
        command = [sys.executable, "-m", "trainer", "train", "--train", train_sets, "--policy", policy,
                   "--out", str(out)] + (["--alpha", str(alpha)] if policy == "hybrid" else [])
        log: list[str] = [" ".join(shlex.quote(c) for c in command)]
        process = subprocess.Popen(command, cwd=_REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, bufsize=1)
        step = re.compile(r"(\d+)/(\d+)")
        for line in process.stdout:
            log.append(line.rstrip())
            found = step.findall(line)
            if found:
                done, total = map(int, found[-1])
                if total:
                    progress(min(done / total, 1.0), desc=f"training {name}: {done}/{total}")
            yield "\n".join(log[-40:])
        code = process.wait()
        log.append(f"finished: exit code {code}" + (f"; the model is in {out}" if code == 0 else ""))
        yield "\n".join(log[-40:])
    finally:
        _training_lock.release()
