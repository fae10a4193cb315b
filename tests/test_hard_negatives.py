"""Hard negatives: same-topic, same-language distractors from the paragraph or story around each answer."""

from __future__ import annotations

import json

import pytest

from corpora import Pair, load_pairs
from corpora.ntrex import is_heldout_document, ntrex_documents
from corpora.registry import NoDistractors, load_distractors
from trainer.pairs import hard_negatives


def test_mlqa_distractors_are_the_paragraph_s_other_sentences(data_dir, data_set) -> None:
    data_set("mlqa-r-dev")
    distractors = load_distractors("mlqa-r-dev", data_dir=data_dir)
    sentences = load_pairs("mlqa-r-dev", langs=["de"], data_dir=data_dir)
    contexts = {p.group: p.passage for p in load_pairs("mlqa-r-dev", langs=["de"], passage="context", data_dir=data_dir)}
    with_some = 0
    for pair in sentences:
        texts = distractors[(pair.group, "de")]
        assert pair.passage not in texts  # never the answer
        assert all(t in contexts[pair.group] for t in texts)  # always from its paragraph
        with_some += bool(texts)
    assert with_some > 0.85 * len(sentences)  # 458 of 512: the rest are one-sentence paragraphs


def test_ntrex_distractors_stay_in_the_training_story(data_dir, data_set) -> None:
    folder = data_set("ntrex128-subset")
    documents = ntrex_documents(folder)
    distractors = load_distractors("ntrex", data_dir=data_dir)
    lines = {p.group: p.query for p in load_pairs("ntrex", langs=["sw"], data_dir=data_dir)}
    story = [g for g in lines if documents[int(g.split("/")[1])] == documents[0]]
    assert len(story) > 2
    assert sorted(distractors[("ntrex/0", "sw")]) == sorted(lines[g] for g in story if g != "ntrex/0")
    assert not any(is_heldout_document(documents[int(group.split("/")[1])]) for group, _ in distractors)


def test_a_set_without_context_is_refused(data_dir) -> None:
    with pytest.raises(NoDistractors, match="constitutions has no paragraphs or stories"):
        load_distractors("constitutions", data_dir=data_dir)
    with pytest.raises(NoDistractors, match="mine.jsonl"):
        load_distractors("mine.jsonl", data_dir=data_dir)


def test_each_row_gets_a_negative_in_its_question_s_language() -> None:
    rows = [
        Pair("g1", "de", "Wer?", "He did.", "en"),  # X-Y: the negative is German, from g1's German paragraph
        Pair("g1", "de", "Wer?", "Er war es.", "de"),
        Pair("g2", "de", "Wo?", "In Bern.", "de"),  # no distractor of its own: another group's German text
        Pair("g3", "sw", "Nani?", "Yeye.", "sw"),
    ]
    distractors = {("g1", "de"): ["Es regnete.", "Dann kam er."], ("g1", "en"): ["It rained."], ("g3", "sw"): ["Mvua."]}
    negatives = hard_negatives(rows, distractors, seed=1)
    assert negatives[0] in {"Es regnete.", "Dann kam er."} and negatives[1] in {"Es regnete.", "Dann kam er."}
    assert negatives[2] in {"Es regnete.", "Dann kam er.", "Er war es."}  # never g2's own answer "In Bern."
    assert negatives[3] == "Mvua."
    assert hard_negatives(rows, distractors, seed=1) == negatives  # reproducible
    with pytest.raises(ValueError, match="no fr text"):
        hard_negatives([Pair("g9", "fr", "Qui ?", "Lui.", "en")], {}, seed=0)


def test_on_the_answer_s_side_the_negative_shares_the_answer_s_language() -> None:
    rows = [
        Pair("g1", "de", "Wer?", "He did.", "en"),  # X-Y: now an English neighbour of the English answer
        Pair("g1", "de", "Wer?", "Er war es.", "de"),  # X-X: the same German neighbours as on the question's side
        Pair("g2", "sw", "Nani?", "She did.", "en"),  # g2 has no English context: another group's English text
    ]
    distractors = {("g1", "de"): ["Es regnete."], ("g1", "en"): ["It rained."]}
    negatives = hard_negatives(rows, distractors, seed=1, side="answer")
    assert negatives == ["It rained.", "Es regnete.", negatives[2]]
    assert negatives[2] in {"It rained.", "He did."}  # English, never g2's own answer
    assert hard_negatives(rows[:2], distractors, seed=1, side="question")[0] == "Es regnete."
    with pytest.raises(ValueError, match="question's or the answer's side"):
        hard_negatives(rows, distractors, side="both")


def test_the_side_is_checked_and_old_cards_read_as_the_question_s_side() -> None:
    from trainer.card import TrainingCard
    from trainer.train import TrainConfig, TrainSetupError

    with pytest.raises(TrainSetupError, match="question or answer"):
        TrainConfig(train=["mlqa-r-dev"], out=".", hard_negatives="both").check()
    old = TrainingCard.from_dict({"config": {"train": ["mlqa-r-dev"], "out": "runs/x", "hard_negatives": True}})
    assert TrainConfig.from_card(old).hard_negatives == "question"
    off = TrainingCard.from_dict({"config": {"train": ["mlqa-r-dev"], "out": "runs/x", "hard_negatives": False}})
    assert TrainConfig.from_card(off).hard_negatives is None


def test_a_run_with_hard_negatives_trains_and_keeps_dev_answers_out(data_set, tmp_path) -> None:
    from trainer.cli import main
    from trainer.train import load_training_data

    data_set("mlqa-r-dev")
    data = load_training_data(["mlqa-r-dev"], limit=200, dev_groups=20, seed=3, hard_negatives="question")
    assert len(data.negatives) == len(data.rows) and all(data.negatives)
    dev_answers = {p.passage for p in data.dev}
    assert not dev_answers & set(data.negatives)
    assert sum(n != r.passage for n, r in zip(data.negatives, data.rows)) == len(data.rows)
    assert data.describe()["hard_negatives"] == "question"

    answer_side = load_training_data(["mlqa-r-dev"], limit=200, dev_groups=20, seed=3, hard_negatives="answer")
    distractors = load_distractors("mlqa-r-dev")
    cross = [(n, r) for n, r in zip(answer_side.negatives, answer_side.rows) if r.lang != r.passage_lang]
    with_context = [(n, r) for n, r in cross if distractors.get((r.group, r.passage_lang))]
    assert len(with_context) > 0.8 * len(cross)
    assert all(n in distractors[(r.group, r.passage_lang)] for n, r in with_context)  # the answer's neighbours
    assert not {p.passage for p in answer_side.dev} & set(answer_side.negatives)

    out = tmp_path / "hard"
    code = main(["train", "--train", "mlqa-r-dev", "--limit", "40", "--max-steps", "2", "--eval-steps", "0",
                 "--dev-groups", "0", "--hard-negatives", "--lora-rank", "4", "--lr", "3e-4", "--batch-size", "8",
                 "--logging-steps", "1", "--out", str(out)])
    assert code == 0
    card = json.loads((out / "training_card.json").read_text())
    assert card["hyperparameters"]["hard_negatives"] == "question" and card["data"]["hard_negatives"] == "question"
    assert main(["train", "--train", "afriqa", "--hard-negatives", "--out", str(tmp_path / "bad")]) == 2
