"""Bitext retrieval (issue #18's evaluation): the held-out NTREX stories and Tatoeba, scored both ways."""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpora.errors import DataError


def test_nearest_accuracy_counts_each_direction_and_forgives_ties():
    from trainer.bitext import nearest_accuracy

    source = np.array([[1, 0], [0, 1]], dtype="float32")
    target = np.array([[1, 0], [0.8, 0.6]], dtype="float32")  # target 1 is nearer to source 0 than to its own
    assert nearest_accuracy(source, target) == (1.0, 0.5)  # each source finds its own; target 1 does not
    tied = np.array([[1, 0], [1, 0]], dtype="float32")  # a duplicated sentence: its partner ties, not a miss
    assert nearest_accuracy(tied, tied) == (1.0, 1.0)


def test_the_held_out_ntrex_stories_are_never_trained_on_and_align_line_by_line(data_set):
    from corpora.bitext import load_bitexts
    from corpora.ntrex import is_heldout_document, ntrex_documents

    folder = data_set("ntrex-128")
    bitexts = load_bitexts("ntrex", langs=["sw", "zh"], data_dir=folder.parent)
    assert [(b.tag, b.lang) for b in bitexts] == [("swa", "sw"), ("zho-CN", "zh"), ("zho-TW", "zh")]
    held = [i for i, doc in enumerate(ntrex_documents(folder)) if is_heldout_document(doc)]
    assert 0.1 < len(held) / 1997 < 0.3 and all(len(b.source) == len(b.english) == len(held) for b in bitexts)
    english = {b.english for b in bitexts}
    assert len(english) == 1  # one English side, the held-out lines of the source
    everything = load_bitexts("ntrex", data_dir=folder.parent)
    assert len(everything) >= 120 and not any(b.lang == "en" for b in everything)


def test_tatoeba_keeps_variants_of_one_code_apart(data_set):
    from corpora.bitext import load_bitexts

    folder = data_set("tatoeba")
    arabic = load_bitexts("tatoeba", langs=["ar"], limit=5, data_dir=folder.parent)
    assert {b.tag for b in arabic} == {"ara", "arq", "arz"} and all(len(b.source) == 5 for b in arabic)
    with pytest.raises(DataError):
        load_bitexts("europarl")


def test_the_cli_scores_real_bitexts_per_language_and_resource_level(data_dir, tmp_path, capsys):
    from trainer.cli import main

    out = tmp_path / "ntrex.json"
    code = main(["bitext", "--model", "default", "--set", "ntrex", "--langs", "sw,am,de", "--limit", "40",
                 "--cache", str(tmp_path / "cache"), "--json", str(out)])
    assert code == 0 and "low-resource" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert set(result["files"]) == {"amh", "deu", "swa"}
    assert result["summary"]["files_low"] == 2 and result["summary"]["files_high"] == 1
    assert all(f["accuracy"] > 0.7 for f in result["files"].values())  # translations of news sentences, 40 each
    again = main(["bitext", "--model", "default", "--set", "ntrex", "--langs", "sw,am,de", "--limit", "40",
                  "--cache", str(tmp_path / "cache"), "--json", str(out)])
    assert again == 0 and json.loads(out.read_text())["timing"]["encoded"] == 0  # the cache answered
    assert main(["bitext", "--set", "ntrex", "--limit", "0"]) == 2
