"""Weight interpolation (WiSE-FT) between the base encoder and a real trained run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainer.card import read_card
from trainer.cli import main
from trainer.encoder import load_encoder
from trainer.merge import MergeError, interpolate, merge, sweep

TEXTS = ["query: Wer wählt den Bundesrat?", "passage: Die Bundesversammlung wählt die Mitglieder des Bundesrates."]


def test_interpolate_is_the_straight_line_between_the_two_weight_sets():
    base = {"w": torch.tensor([0.0, 2.0]), "ids": torch.tensor([1, 2])}
    tuned = {"w": torch.tensor([1.0, 4.0]), "ids": torch.tensor([3, 4])}
    assert torch.equal(interpolate(base, tuned, 0.0)["w"], base["w"])
    assert torch.equal(interpolate(base, tuned, 1.0)["w"], tuned["w"])
    assert torch.allclose(interpolate(base, tuned, 0.25)["w"], torch.tensor([0.25, 2.5]))
    assert torch.equal(interpolate(base, tuned, 0.25)["ids"], tuned["ids"])  # integer buffers are not averaged
    assert torch.equal(base["w"], torch.tensor([0.0, 2.0]))  # inputs untouched


def test_interpolate_refuses_different_architectures():
    with pytest.raises(MergeError, match="different weights"):
        interpolate({"a": torch.zeros(2)}, {"b": torch.zeros(2)}, 0.5)
    with pytest.raises(MergeError, match="shape"):
        interpolate({"a": torch.zeros(2)}, {"a": torch.zeros(3)}, 0.5)


def _vectors(folder) -> np.ndarray:
    return load_encoder(str(folder)).encode(TEXTS, normalize_embeddings=True)


def test_merged_models_sit_between_base_and_tuned(tiny_run, tmp_path, base_encoder):
    base = base_encoder.encode(TEXTS, normalize_embeddings=True)
    tuned = _vectors(tiny_run)
    at_0 = _vectors(merge(tiny_run, tmp_path / "w0", 0.0))
    at_1 = _vectors(merge(tiny_run, tmp_path / "w1", 1.0))
    half = _vectors(merge(tiny_run, tmp_path / "w05", 0.5))
    assert np.allclose(at_0, base, atol=1e-5)
    assert np.allclose(at_1, tuned, atol=1e-5)
    assert not np.allclose(half, base, atol=1e-4)
    assert not np.allclose(half, tuned, atol=1e-4)
    # halfway in weights lands between the two in embedding space
    assert np.linalg.norm(half - base) < np.linalg.norm(tuned - base)
    assert np.linalg.norm(half - tuned) < np.linalg.norm(tuned - base)
    card = read_card(tmp_path / "w05")
    assert card["merge"]["weight"] == 0.5
    assert card["merge"]["base"] == "base"
    assert card["merge"]["chosen_on"] == "given"
    assert card["policy"] == "hybrid"


def test_sweep_scores_each_weight_on_the_runs_dev_split(tiny_run, base_encoder):
    from corpora.settings import get_settings
    from trainer.merge import dev_task
    from trainer.dev import dev_evaluator

    result = sweep(tiny_run, (0.0, 1.0), progress=False)
    assert [row["weight"] for row in result.sweep] == [0.0, 1.0]
    best = max(result.sweep, key=lambda r: r["map_avg"])
    assert result.weight == best["weight"]
    assert result.dev["map_avg"] == best["map_avg"]
    # the end points are the base model and the run itself, scored on the same rebuilt dev split
    evaluator = dev_evaluator(dev_task(read_card(tiny_run), get_settings()), batch_size=64)
    assert result.sweep[0]["map_avg"] == pytest.approx(evaluator(base_encoder)["dev_map_avg"], abs=1e-6)
    assert result.sweep[1]["map_avg"] == pytest.approx(evaluator(load_encoder(str(tiny_run)))["dev_map_avg"], abs=1e-6)
    assert result.sweep[0]["map_avg"] != pytest.approx(result.sweep[1]["map_avg"], abs=1e-6)


def test_cli_auto_writes_the_chosen_model_and_the_sweep(tiny_run, tmp_path, capsys):
    out = tmp_path / "merged"
    assert main(["merge", "--tuned", str(tiny_run), "--out", str(out), "--grid", "0.5,1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines()[-1] == str(out)
    assert "<- chosen" in captured.err
    assert "rank_distance" in captured.err
    merge_info = read_card(out)["merge"]
    assert merge_info["chosen_on"] == "dev split"
    assert [r["weight"] for r in merge_info["sweep"]] == [0.5, 1.0]
    assert load_encoder(str(out)).encode_query(["Wer?"]).shape == (1, 384)
    # the app's model list says what the folder is
    from app.ui_resources import trained_models

    [option] = trained_models(tmp_path)
    assert option.label == f"merged (trained: hybrid α=0.5, on mlqa-r-dev, 10 steps, merged with the base model at w={merge_info['weight']:g})"


@pytest.mark.parametrize("extra, message", [
    (["--weight", "1.5"], "between 0 (base) and 1"),
    (["--weight", "half"], "'auto'"),
])
def test_cli_refuses_bad_weights(tiny_run, tmp_path, capsys, extra, message):
    assert main(["merge", "--tuned", str(tiny_run), "--out", str(tmp_path / "m"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_cli_refuses_a_folder_that_is_not_a_run_and_overwriting_the_run(tiny_run, tmp_path, capsys, base_encoder):
    from trainer.encoder import default_model_path

    assert main(["merge", "--tuned", str(default_model_path()), "--out", str(tmp_path / "m"), "--weight", "0.5"]) == 2
    assert "no training card" in capsys.readouterr().err
    assert main(["merge", "--tuned", str(tiny_run), "--out", str(tiny_run), "--weight", "0.5"]) == 2
    assert "new folder" in capsys.readouterr().err


def test_the_dev_task_puts_every_sentence_of_the_answer_paragraphs_in_the_pool(tiny_run):
    from corpora.settings import get_settings
    from trainer.merge import dev_split, dev_task

    dev = dev_split(read_card(tiny_run), get_settings())
    task = dev_task(read_card(tiny_run), get_settings())
    groups = {p.group.split(":", 1)[1] for p in dev}
    assert len(groups) == 6
    assert {task.groups[q.id] for q in task.queries} == groups
    assert {(q.lang, q.text) for q in task.queries} == {(p.lang, p.query) for p in dev}
    relevant = set().union(*task.relevant.values())
    pool = {c.id for c in task.candidates}
    assert relevant <= pool
    assert len(pool) > 2 * len(relevant)  # the answer sentences' neighbours are in the pool as distractors
    # and nothing from a paragraph that answers no dev question
    assert {c.rsplit(".", 1)[0] for c in pool} == {c.rsplit(".", 1)[0] for c in relevant}
    answers = {p.passage for p in dev}
    assert answers <= {c.text for c in task.candidates if c.id in relevant}


def test_cli_refuses_to_overwrite_a_non_empty_folder_before_any_work(tiny_run, tmp_path, capsys):
    taken = tmp_path / "someone-elses-run"
    taken.mkdir()
    (taken / "model.safetensors").write_bytes(b"precious")
    # --weight auto would sweep for minutes first; the refusal must come before that
    assert main(["merge", "--tuned", str(tiny_run), "--out", str(taken)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert (taken / "model.safetensors").read_bytes() == b"precious"
    assert [p.name for p in taken.iterdir()] == ["model.safetensors"]


def test_the_dev_task_keeps_held_out_pairs_of_other_data_beside_mlqa(tiny_run):
    from corpora.records import Pair
    from corpora.settings import get_settings
    from trainer.merge import dev_split
    from trainer.dev import dev_task

    mlqa = dev_split(read_card(tiny_run), get_settings())
    other = [Pair("afriqa:ha:dev:1", "ha", "Wanene ya kafa Kano?", "Kano was founded by Bagauda.", "en"),
             Pair("afriqa:ha:dev:2", "ha", "Yaushe aka haifi Sardauna?", "Ahmadu Bello was born in 1910.", "en")]
    task = dev_task(mlqa + other, data_dir=get_settings().data)
    in_context = dev_task(mlqa, data_dir=get_settings().data)
    assert len(task.queries) == len(in_context.queries) + 2
    assert len(task.candidates) == len(in_context.candidates) + 2
    hausa = [q for q in task.queries if q.lang == "ha"]
    assert sorted(q.text for q in hausa) == sorted(p.query for p in other)
    answers = {c.id: c.text for c in task.candidates}
    assert {answers[cid] for q in hausa for cid in task.relevant[q.id]} == {p.passage for p in other}
