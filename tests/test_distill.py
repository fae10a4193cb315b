"""Knowledge distillation beside the ranking loss (trainer.distill; issue #18)."""

from __future__ import annotations

import json

import numpy as np

from corpora.records import Pair


def test_each_row_is_anchored_on_its_group_s_english_side_or_on_itself():
    from trainer.distill import english_targets

    rows = [Pair("g1", "de", "Wer?", "Er.", "de"), Pair("g1", "en", "Who?", "He.", "en"),
            Pair("g1", "sw", "Nani?", "Yeye.", "en"), Pair("g2", "sw", "Lini?", "Jana.", "sw"),
            Pair("ntrex/7", "am", "ሰላም", "Peace", "en")]  # a translation pair: English only as the passage
    questions, passages = english_targets(rows)
    assert questions == ["Who?", "Who?", "Who?", "Lini?", "Peace"]  # g2 has no English: its own text
    assert passages == ["He.", "He.", "He.", "Jana.", "Peace"]


def test_the_teacher_encodes_each_distinct_text_once():
    from tests.app_helpers import FakeEncoder
    from trainer.distill import build_teacher

    rows = [Pair("g1", "de", "Wer?", "Er.", "de"), Pair("g1", "en", "Who?", "He.", "en"),
            Pair("g1", "en", "Who?", "Er.", "de")]
    teacher = build_teacher(rows, FakeEncoder(dim=8), cache_root=None)
    assert teacher.vectors.shape == (2, 8)  # "Who?" (query) and "He." (passage)
    assert teacher.row_query.tolist() == [0, 0, 0] and teacher.row_passage.tolist() == [1, 1, 1]
    np.testing.assert_allclose(np.linalg.norm(teacher.vectors, axis=1), 1, rtol=1e-5)


def test_a_distilled_run_trains_and_records_its_weight(data_set, tmp_path):
    from trainer.cli import main

    data_set("mlqa-r-dev")
    out = tmp_path / "distilled"
    code = main(["train", "--train", "mlqa-r-dev", "--limit", "40", "--max-steps", "2", "--eval-steps", "0",
                 "--dev-groups", "0", "--distill", "1", "--lora-rank", "4", "--lr", "3e-4", "--batch-size", "8",
                 "--logging-steps", "1", "--out", str(out)])
    assert code == 0
    card = json.loads((out / "training_card.json").read_text())
    assert card["hyperparameters"]["distill"] == 1.0 and len(card["loss"]["history"]) == 2
    assert main(["train", "--train", "mlqa-r-dev", "--distill", "-1", "--out", str(tmp_path / "bad")]) == 2
