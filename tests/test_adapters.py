"""LoRA adapters: trained through sentence-transformers + PEFT, loaded like any model, merged (WiSE-FT),
packaged for shipping, and refused when their files are damaged."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from safetensors.torch import load_file

from trainer.adapters import ADAPTER_CONFIG, ADAPTER_WEIGHTS, AdapterError, LoraSettings
from trainer.card import read_card
from trainer.cli import main
from trainer.encoder import load_encoder, verify_adapter
from trainer.merge import merge
from trainer.ship import ship
from trainer.train import TrainConfig, TrainSetupError, train

from tests.train_helpers import RECIPE

TEXTS = ["query: Wer wählt den Bundesrat?", "passage: Die Bundesversammlung wählt die Mitglieder des Bundesrates."]
LORA = dict(RECIPE, lr=1e-3, lora_rank=4)


@pytest.fixture(scope="session")
def tiny_lora_run(data_set, tmp_path_factory):
    """One real hybrid LoRA run of 10 steps (rank 4, checkpoints at 5 and 10) on a slice of MLQA-R."""
    data_set("mlqa-r-dev")
    return train(TrainConfig(out=tmp_path_factory.mktemp("runs") / "lora", **LORA))


def _vectors(model) -> np.ndarray:
    return model.encode(TEXTS, normalize_embeddings=True)


def test_a_lora_run_writes_an_adapter_not_a_copy_of_the_weights(tiny_lora_run):
    assert (tiny_lora_run / ADAPTER_WEIGHTS).is_file()
    assert (tiny_lora_run / ADAPTER_CONFIG).is_file()
    assert not (tiny_lora_run / "model.safetensors").exists()
    weights = load_file(str(tiny_lora_run / ADAPTER_WEIGHTS))
    assert weights
    assert all("lora_" in name for name in weights)
    # 12 blocks x 6 linear layers x (A and B); the pooler is left out
    assert len(weights) == 12 * 6 * 2
    assert not any("pooler" in name for name in weights)
    card = read_card(tiny_lora_run)
    assert card["adapter"]["rank"] == 4
    assert card["adapter"]["alpha"] == 8
    assert card["adapter"]["parameters"] == sum(t.numel() for t in weights.values())
    assert card["base_model"] == "base"
    assert [h["step"] for h in card["dev_history"]] == [5, 10]


def test_the_adapter_loads_on_the_base_and_keeps_its_length(tiny_lora_run, base_encoder):
    tuned = load_encoder(str(tiny_lora_run))
    assert not np.allclose(_vectors(tuned), _vectors(base_encoder), atol=1e-4)  # training moved it
    assert tuned.max_seq_length == 512  # trained at 32 tokens; reads what the base reads
    # PEFT's fused layers give what the separate adapter layers give
    assert np.allclose(_vectors(tuned), _vectors(load_encoder(str(tiny_lora_run), fuse=False)), atol=1e-5)
    assert "+lora:" in tuned.polylex_id
    assert tuned.polylex_id.startswith(base_encoder.polylex_id)


def test_resume_gives_the_adapter_of_an_uninterrupted_run(tiny_lora_run, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(tiny_lora_run / "checkpoints" / "checkpoint-5", out / "checkpoints" / "checkpoint-5")
    train(TrainConfig(out=out, resume=True, **LORA))
    straight = load_file(str(tiny_lora_run / "checkpoints" / "checkpoint-10" / ADAPTER_WEIGHTS))
    resumed = load_file(str(out / "checkpoints" / "checkpoint-10" / ADAPTER_WEIGHTS))
    assert straight.keys() == resumed.keys()
    for name in straight:
        assert np.allclose(straight[name].numpy(), resumed[name].numpy(), atol=1e-5), name


def test_merging_an_adapter_scales_its_delta(tiny_lora_run, tmp_path, base_encoder):
    tuned = _vectors(load_encoder(str(tiny_lora_run)))
    at_0 = _vectors(load_encoder(str(merge(tiny_lora_run, tmp_path / "w0", 0.0))))
    at_1 = _vectors(load_encoder(str(merge(tiny_lora_run, tmp_path / "w1", 1.0))))
    half_folder = merge(tiny_lora_run, tmp_path / "w05", 0.5)
    half = _vectors(load_encoder(str(half_folder)))
    assert np.allclose(at_0, _vectors(base_encoder), atol=1e-5)
    assert np.allclose(at_1, tuned, atol=1e-5)
    assert np.linalg.norm(half - _vectors(base_encoder)) < np.linalg.norm(tuned - _vectors(base_encoder))
    # still an adapter of the same size, its B matrices halved
    original, halved = load_file(str(tiny_lora_run / ADAPTER_WEIGHTS)), load_file(str(half_folder / ADAPTER_WEIGHTS))
    assert original.keys() == halved.keys()
    for name in original:
        expected = original[name] * (0.5 if ".lora_B." in name else 1.0)
        assert np.allclose(halved[name].numpy(), expected.numpy(), atol=1e-7), name
    card = read_card(half_folder)
    assert card["merge"]["weight"] == 0.5
    assert "LoRA" in card["merge"]["method"]


def test_ship_writes_the_files_their_sha256_and_a_readable_card(tiny_lora_run, tmp_path, capsys):
    out = tmp_path / "models" / "polylex-test"
    figures = tmp_path / "xquad-r.json"
    figures.write_text(json.dumps({"summary": {"map_mono": 0.8, "map_cross": 0.7, "map_multi": 0.6,
                                               "rank_distance": 250.0, "rank_distance_median": 40.0},
                                   "counts": {"queries": 13090, "candidates": 13014}, "options": {"limit": None}}))
    assert main(["ship", "--run", str(tiny_lora_run), "--out", str(out), "--figures", f"xquad-r={figures}"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["README.md", ADAPTER_CONFIG, ADAPTER_WEIGHTS, "training_card.json"]
    card = read_card(out)
    assert verify_adapter(out) == card["shipped"]["sha256"]
    assert json.loads((out / ADAPTER_CONFIG).read_text())["base_model_name_or_path"] == "intfloat/multilingual-e5-small"
    licences = {row["set"]: row for row in card["shipped"]["data_licences"]}
    assert "non-commercial" in licences["mlqa-r-dev"]["note"]
    readme = (out / "README.md").read_text()
    assert card["shipped"]["sha256"][ADAPTER_WEIGHTS] in readme
    assert "make adapter" in readme
    assert "| xquad-r (all) | 13,090 × 13,014 | 0.800 | 0.700 | 0.600 | 250.0 | 40.0 |" in readme
    assert np.allclose(_vectors(load_encoder(str(out))), _vectors(load_encoder(str(tiny_lora_run))), atol=1e-6)
    # a second ship over it needs --force; nothing is replaced without it
    assert main(["ship", "--run", str(tiny_lora_run), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err


def test_ship_refuses_a_full_model_and_an_oversized_adapter(tiny_run, tiny_lora_run, tmp_path, monkeypatch):
    with pytest.raises(AdapterError, match="no LoRA adapter"):
        ship(tiny_run, tmp_path / "a")
    monkeypatch.setattr("trainer.ship.MAX_BYTES", 1000)
    with pytest.raises(AdapterError, match="under 0 MiB|must stay under"):
        ship(tiny_lora_run, tmp_path / "b")
    assert not (tmp_path / "b").exists()


@pytest.fixture()
def shipped_copy(tiny_lora_run, tmp_path):
    return ship(tiny_lora_run, tmp_path / "polylex-hybrid")


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete", "config"])
def test_a_damaged_adapter_is_refused_by_name_never_served_as_default(shipped_copy, monkeypatch, damage):
    weights = shipped_copy / ADAPTER_WEIGHTS
    if damage == "flip":
        data = bytearray(weights.read_bytes())
        data[len(data) // 2] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif damage == "delete":
        weights.unlink()
    else:
        weights = shipped_copy / ADAPTER_CONFIG
        weights.write_text(weights.read_text().replace('"r": 4', '"r": 8'))
    monkeypatch.setattr("trainer.encoder.SHIPPED_ADAPTER", shipped_copy)
    with pytest.raises(AdapterError) as caught:
        load_encoder("default")
    message = str(caught.value)
    assert str(weights) in message
    assert "POLYLEX_MODEL=base" in message
    assert "README.md" in message


def test_an_adapter_without_its_card_sha256_is_refused(shipped_copy, monkeypatch):
    card = read_card(shipped_copy)
    del card["shipped"]["sha256"]
    (shipped_copy / "training_card.json").write_text(json.dumps(card))
    monkeypatch.setattr("trainer.encoder.SHIPPED_ADAPTER", shipped_copy)
    with pytest.raises(AdapterError, match="lists no sha256"):
        load_encoder("default")


def test_a_truncated_adapter_in_a_run_folder_names_the_file(tiny_lora_run, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_lora_run, broken, ignore=shutil.ignore_patterns("checkpoints"))
    (broken / ADAPTER_WEIGHTS).write_bytes((broken / ADAPTER_WEIGHTS).read_bytes()[:500])
    with pytest.raises(AdapterError, match="cannot be loaded") as caught:
        load_encoder(str(broken))
    assert "POLYLEX_MODEL=base" in str(caught.value)


def test_bad_lora_settings_are_refused_before_training(tmp_path):
    with pytest.raises(TrainSetupError, match="rank"):
        TrainConfig(train=["mlqa-r-dev"], out=tmp_path, lora_rank=-1).check()
    with pytest.raises(TrainSetupError, match="dropout"):
        TrainConfig(train=["mlqa-r-dev"], out=tmp_path, lora_rank=4, lora_dropout=1.5).check()
    with pytest.raises(TrainSetupError, match="target modules"):
        TrainConfig(train=["mlqa-r-dev"], out=tmp_path, lora_rank=4, lora_targets=" , ").check()
    assert LoraSettings(rank=8).peft_config().lora_alpha == 16


def test_the_page_explains_a_damaged_default_without_cli_flags(shipped_copy, monkeypatch):
    import gradio as gr

    from app import ui_resources, ui_search

    (shipped_copy / ADAPTER_WEIGHTS).write_bytes(b"not an adapter")
    monkeypatch.setattr("trainer.encoder.SHIPPED_ADAPTER", shipped_copy)
    monkeypatch.setattr(ui_resources, "_encoders", {})
    with pytest.raises(gr.Error) as caught:
        ui_search._encoder("default")
    text = str(caught.value.message if hasattr(caught.value, "message") else caught.value)
    assert "“Base”" in text
    assert ADAPTER_WEIGHTS in text
    assert "--" not in text
    assert "POLYLEX_MODEL" not in text


def test_training_on_top_of_an_adapter_is_refused(tiny_lora_run, tmp_path):
    with pytest.raises(TrainSetupError, match="is an adapter"):
        train(TrainConfig(out=tmp_path / "x", **dict(LORA, model=str(tiny_lora_run))))


def test_ship_never_replaces_what_is_not_an_adapter(tiny_lora_run, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(AdapterError, match="not an adapter folder"):
        ship(tiny_lora_run, precious, force=True)
    assert (precious / "notes.txt").read_text() == "keep me"
    with pytest.raises(AdapterError, match="must differ"):
        ship(tiny_lora_run, tiny_lora_run, force=True)


def test_a_missing_shipped_adapter_is_refused_with_the_way_out(tmp_path, monkeypatch):
    monkeypatch.setattr("trainer.encoder.SHIPPED_ADAPTER", tmp_path / "gone")
    with pytest.raises(AdapterError, match="missing") as caught:
        load_encoder("default")
    assert "POLYLEX_MODEL=base" in str(caught.value)
