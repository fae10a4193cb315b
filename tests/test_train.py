"""Training on the real default encoder: a short CPU run, its folder and card, resuming, DDP, bad arguments."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file

from trainer.card import read_card
from trainer.cli import main
from trainer.encoder import load_encoder
from trainer.train import TrainConfig, train

from tests.train_helpers import RECIPE

ROOT = Path(__file__).resolve().parent.parent


def _trained_weights(checkpoint: Path) -> dict:
    weights = load_file(str(checkpoint / "model.safetensors"))
    return {k: v for k, v in weights.items() if "encoder.layer" in k}


def test_a_short_run_lowers_the_loss_and_writes_the_card(tiny_run):
    card = read_card(tiny_run)
    losses = [loss for _, loss in card["loss"]["history"]]
    assert len(losses) == 10
    assert np.mean(losses[-3:]) < np.mean(losses[:3]) * 0.9, losses
    assert (card["policy"], card["alpha"], card["seed"], card["steps"]) == ("hybrid", 0.5, 7, 10)
    assert card["data"]["sets"] == ["mlqa-r-dev"]
    assert card["data"]["dev_groups"] == 6
    assert set(card["languages"]["xx"]) == {"ar", "de", "en", "es", "hi", "vi", "zh"}
    assert 0 < card["dev"]["dev_map_avg"] <= 1
    assert [h["step"] for h in card["dev_history"]] == [5, 10]
    assert card["hardware"]["device"] == "cpu"
    assert card["libraries"]["sentence-transformers"]
    assert card["hyperparameters"]["scale"] == 20.0
    assert card["time"]["seconds"] > 0


def test_the_card_s_dev_figures_are_the_saved_model_s(tiny_run):
    # taken from the best evaluation's log entry, not measured again: the saved model must score them
    from corpora.settings import get_settings
    from trainer.dev import dev_evaluator
    from trainer.merge import dev_task

    card = read_card(tiny_run)
    best = next(h for h in card["dev_history"] if card["best_checkpoint"].endswith(f"checkpoint-{h['step']}"))
    assert card["dev"] == {k.removeprefix("eval_"): v for k, v in best.items() if k != "step"}
    saved = load_encoder(str(tiny_run))
    saved.max_seq_length = card["hyperparameters"]["max_seq_length"]  # as training scored it
    again = dev_evaluator(dev_task(card, get_settings()), batch_size=64)(saved)
    assert again["dev_map_avg"] == pytest.approx(card["dev"]["dev_map_avg"], abs=1e-6)


def test_the_output_is_a_model_the_loader_opens(tiny_run):
    trained, base = load_encoder(str(tiny_run)), load_encoder("base")
    text = ["Wer wählt den Bundesrat?"]
    vector = trained.encode_query(text)
    assert vector.shape == (1, 384)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)
    assert not np.allclose(vector, base.encode_query(text), atol=1e-4)  # training changed the weights
    assert trained.prompts["query"] == "query: "
    assert trained.max_seq_length == base.max_seq_length  # the training length is not saved as the limit


def test_resume_continues_from_the_checkpoint(tiny_run, tmp_path):
    straight = _trained_weights(tiny_run / "checkpoints" / "checkpoint-10")
    out = tmp_path / "resumed"
    shutil.copytree(tiny_run / "checkpoints" / "checkpoint-5", out / "checkpoints" / "checkpoint-5")
    train(TrainConfig(out=out, resume=True, **RECIPE))
    card = read_card(out)
    assert card["resumed_from"].endswith("checkpoint-5")
    assert card["steps"] == 10
    resumed = _trained_weights(out / "checkpoints" / "checkpoint-10")
    # the same batches, optimizer state and random state: steps 6-10 land on the same weights
    for name, tensor in straight.items():
        assert np.allclose(tensor.numpy(), resumed[name].numpy(), atol=1e-5), name
    shutil.rmtree(out)


@pytest.mark.parametrize("weights", [["--freeze-embeddings"], ["--lora-rank", "4"]], ids=["full", "lora"])
def test_two_processes_train_with_torchrun_on_cpu(data_set, tmp_path, weights):
    data_set("mlqa-r-dev")
    out = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "trainer", "train",
               "--train", "mlqa-r-dev", "--limit", "40", "--dev-groups", "0", "--batch-size", "4",
               "--max-seq-length", "16", *weights, "--max-steps", "2", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == str(out)
    card = read_card(out)
    assert card["hardware"]["processes"] == 2
    assert card["steps"] == 2
    assert (card["adapter"] is not None) == ("--lora-rank" in weights)
    load_encoder(str(out))
    shutil.rmtree(out)


def _fails(args: list[str], capsys) -> str:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: "), captured.err
    return lines[0]


@pytest.mark.parametrize("command", ["train", "batches"])
def test_unknown_data_set_and_alpha_outside_0_1(command, tmp_path, capsys):
    out = ["--out", str(tmp_path / "x")] if command == "train" else []
    assert "unknown data set 'nope'" in _fails([command, "--train", "nope", *out], capsys)
    assert "alpha must be in [0, 1], got 1.5" in _fails(
        [command, "--train", "mlqa-r-dev", "--alpha", "1.5", *out], capsys)


def test_empty_training_set(tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert "holds no records" in _fails(["train", "--train", str(empty), "--out", str(tmp_path / "x")], capsys)


def test_a_language_with_no_pairs_for_x_y(data_set, tmp_path, capsys):
    data_set("amqa")
    line = _fails(["train", "--train", "mlqa-r-dev,amqa", "--policy", "xy", "--out", str(tmp_path / "x")], capsys)
    assert "language 'am' has no X-Y pairs" in line
    assert "has no pairs in mlqa-r-dev" in _fails(
        ["batches", "--train", "mlqa-r-dev", "--langs", "sw", "--n", "10"], capsys)


def test_resume_needs_a_checkpoint_and_a_used_folder_needs_resume(data_set, tmp_path, capsys):
    data_set("mlqa-r-dev")
    out = tmp_path / "run"
    assert "nothing to resume" in _fails(["train", "--train", "mlqa-r-dev", "--out", str(out), "--resume"], capsys)
    (out / "checkpoints" / "checkpoint-5").mkdir(parents=True)
    assert "add --resume" in _fails(["train", "--train", "mlqa-r-dev", "--out", str(out)], capsys)


def test_batches_json_over_1000_batches(data_set, capsys):
    data_set("mlqa-r-dev")
    assert main(["batches", "--train", "mlqa-r-dev", "--policy", "hybrid", "--alpha", "0.5",
                 "--n", "1000", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["batches"] == 1000
    assert summary["duplicate_groups"] == 0
    assert summary["mixed_batches"] == 0
    assert 0.448 <= summary["xx_share"] <= 0.552  # binomial 99.9% interval around 0.5 for n = 1000
    assert summary["query_languages_per_batch"] == {"1": 1000}
    assert sorted(summary["batch_language"]["xy"]) == ["ar", "de", "en", "es", "hi", "vi", "zh"]
    assert all(len(pair.split("-")) == 2 for pair in summary["language_pairs"])


def test_batches_weighted_by_set_share_a_mixture_equally(data_set, capsys):
    """`--weighting set` reads each row's data set from the loader: MLQA-R and AfriQA each get half of
    the batches of each kind. AfriQA's X-X questions are English and French, so French takes a quarter
    of the X-X batches, where uniform weighting over the eight X-X languages would give it an eighth."""
    data_set("mlqa-r-dev")
    data_set("afriqa")
    assert main(["batches", "--train", "mlqa-r-dev,afriqa", "--policy", "hybrid", "--weighting", "set",
                 "--n", "1000", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    half = {"afriqa": 0.5, "mlqa-r-dev": 0.5}
    assert summary["sampler"]["set_share"] == {"xx": half, "xy": half}
    xx = summary["batch_language"]["xx"]
    n = sum(xx.values())
    share = xx["fr"] / n
    spread = 3.3 * (0.25 * 0.75 / n) ** 0.5  # a 99.9% binomial interval
    assert abs(share - 0.25) <= spread and abs(share - 1 / 8) > spread, xx


def test_weighting_by_set_refuses_groups_that_several_files_share(tmp_path, capsys):
    """Two pairs files may split one question's languages between them (same group ids, joined into
    X-Y pairs); such a group belongs to no single set, so `--weighting set` says so instead of
    crediting it to whichever file was read last. Weighting by language still trains on them."""
    def pairs_file(name: str, lang: str) -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps({"group": f"g{g}", "lang": lang, "query": f"q{g} {lang}",
                                            "passage": f"p{g} {lang}"}) + "\n" for g in range(40)))
        return path

    files = f"{pairs_file('en.jsonl', 'en')},{pairs_file('de.jsonl', 'de')}"
    line = _fails(["batches", "--train", files, "--weighting", "set", "--batch-size", "8", "--n", "5",
                   "--dev-groups", "0"], capsys)  # every group trains: the sampler counts the rows it gets
    assert "--weighting set needs each group in one data set, but 40 groups (e.g. 'g0')" in line
    assert main(["batches", "--train", files, "--batch-size", "8", "--n", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["language_pairs"].keys() >= {"en-de", "de-en"}
