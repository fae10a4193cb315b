"""The comparison's bookkeeping: one recipe per policy, reuse of finished runs, the report's tables."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from trainer.compare import CompareConfig, run_compare
from trainer.train import TrainConfig


class HashEncoder(torch.nn.Module):
    """Fake model: a text's vector is seeded by its hash and the model's name, so models differ."""

    prompts = {"query": "query: ", "document": "passage: "}

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        # distinct weights per model: the embedding cache is keyed by a hash of the weights
        self.weight = torch.nn.Parameter(torch.tensor([float(int(hashlib.md5(name.encode()).hexdigest()[:6], 16))]))
        self.max_seq_length = 128

    def _encode(self, texts, **kwargs):
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.blake2b(f"{self.name}|{text}".encode(), digest_size=4).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(8)
            rows.append(v / np.linalg.norm(v))
        return np.array(rows, dtype=np.float32)

    encode_query = encode_document = _encode


def test_compare_trains_each_policy_on_one_recipe_and_writes_the_report(data_set, tmp_path):
    data_set("xquad-r")
    data_set("constitutions-multilang")
    trained: list[TrainConfig] = []

    def fake_train(config: TrainConfig, *, settings) -> Path:
        trained.append(config)
        config.out.mkdir(parents=True)
        card = {"steps": config.max_steps, "seed": config.seed, "time": {"seconds": 1.0, "pairs_per_second": 9.0},
                "loss": {"first": 2.0, "last": 1.0}}
        (config.out / "training_card.json").write_text(json.dumps(card))
        return config.out

    from corpora.settings import get_settings

    settings = get_settings(cache=tmp_path / "cache")
    recipe = TrainConfig(train=["mlqa-r-dev"], out=Path("unused"), max_steps=7, seed=5, alpha=0.5)
    config = CompareConfig(recipe=recipe, runs=tmp_path / "runs", report=tmp_path / "reports",
                           benchmarks=("xquad-r", "constitutions"), eval_limit=3,
                           command="python -m trainer compare ...")
    path = run_compare(config, settings=settings, train_fn=fake_train, load_fn=lambda spec, settings: HashEncoder(spec))

    assert [c.policy for c in trained] == ["xx", "xy", "hybrid"]
    for c in trained:  # nothing but the policy and the folder differs
        assert (c.max_steps, c.seed, c.alpha, c.train) == (7, 5, 0.5, ["mlqa-r-dev"])
        assert c.out == tmp_path / "runs" / c.policy
    text = path.read_text()
    assert "## xquad-r" in text
    assert "## constitutions" in text
    assert "| X-X |" in text
    assert "| hybrid |" in text
    assert "paper's best: LaBSE" in text
    assert "By resource level" in text  # the constitutions have Nynorsk, a low-resource language
    for png in ("xquad-r_map.png", "xquad-r_rank_distance.png", "constitutions_heatmaps.png"):
        assert (tmp_path / "reports" / png).stat().st_size > 1000
    summary = json.loads((tmp_path / "reports" / "compare.json").read_text())["summary"]
    assert set(summary["xquad-r"]) == {"base", "xx", "xy", "hybrid"}
    assert len({json.dumps(summary["xquad-r"][m]) for m in ("base", "xx", "xy", "hybrid")}) == 4  # four models
    result = json.loads((tmp_path / "reports" / "results" / "xquad-r" / "hybrid.json").read_text())
    assert result["model"] == str(tmp_path / "runs" / "hybrid")

    # a second comparison reuses the finished runs and encodes nothing again
    trained.clear()
    run_compare(config, settings=settings, train_fn=fake_train, load_fn=lambda spec, settings: HashEncoder(spec))
    assert trained == []
    again = json.loads((tmp_path / "reports" / "results" / "xquad-r" / "hybrid.json").read_text())
    assert again["timing"]["encoded"] == 0
    assert again["summary"] == result["summary"]


def test_unknown_policy_is_refused(tmp_path):
    config = CompareConfig(recipe=TrainConfig(train=["x"], out=tmp_path), runs=tmp_path, policies=("xx", "yy"))
    with pytest.raises(ValueError, match="unknown policies"):
        run_compare(config, train_fn=lambda *a, **k: None, load_fn=lambda *a, **k: None)
