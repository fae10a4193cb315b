"""The shipped language-ID model: the file matches its card, the card its recipe, and the recipe rebuilds the file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.errors import ShippedFileError
from app.langid import SERVED, shipped
from app.langid.build import MIN_REJECT_CHARS, MIN_TRAIN_CHARS, TRAINING_SOURCES, build, classifier_labels
from app.langid.catalogs import CatalogError
from app.langid.ngram import MODEL_VERSION, data_fingerprint
from app.langid.scripts import (
    CATALOG_REJECT_LANGUAGES,
    REFUSED_FORMS,
    REJECT_LANGUAGES,
    SERVED_LANGUAGES,
    language_of,
)
from trainer.adapters import sha256_of

MODEL = shipped.MODEL_DIR / shipped.MODEL_FILE


def test_the_shipped_file_is_the_one_its_card_describes() -> None:
    card = shipped.read_card()
    assert sha256_of(MODEL) == card["sha256"]
    assert MODEL.stat().st_size == card["bytes"] <= 5_000_000  # "a few MB at most"
    assert card["recipe"]["model_version"] == MODEL_VERSION
    assert card["languages"]["served"] == list(SERVED_LANGUAGES) and len(SERVED) >= 110
    assert card["languages"]["classifier"] == classifier_labels() == sorted(shipped.load_shipped().classes.tolist())
    chars = card["languages"]["train_chars"]
    refused = {label for label in chars if language_of(label) in REJECT_LANGUAGES}  # "lfn@Cyrillic" too
    assert min(n for label, n in chars.items() if label not in refused) >= MIN_TRAIN_CHARS
    assert min(n for label, n in chars.items() if label in refused) >= MIN_REJECT_CHARS
    assert card["languages"]["learnt_to_refuse"] == list(REJECT_LANGUAGES) and not set(REJECT_LANGUAGES) & SERVED
    assert list(card["languages"]["refused_forms"]) == list(REFUSED_FORMS) and set(REFUSED_FORMS) <= set(chars)
    assert card["command"] == "make langid"
    assert card["catalogs"]["languages"] == list(CATALOG_REJECT_LANGUAGES)  # learnt from Debian's catalogs
    licences = {item["name"]: item["licence"] for item in card["data"]}
    assert {"ntrex-128", "tatoeba"} <= set(licences) and not {"mlqa-r-dev", "milpac"} & set(licences)  # open data only
    assert "NC" not in " ".join(licences.values())


def test_the_card_has_the_benchmark_figures_of_this_file() -> None:
    figures = shipped.read_card()["figures"]
    assert figures["summary"]["served_languages"] == len(SERVED)
    summary = figures["summary"]
    # issue 12's goals: a rebuilt model that misses one must not be shipped unnoticed. Accuracy is against
    # the code each language is answered with (Bosnian and Croatian: hbs, ANSWERED_AS); each language's own
    # code alone (short 0.899) is held to the paragraph goal.
    assert summary["paragraph_accuracy"] >= 0.97 and summary["short_accuracy"] >= 0.90
    assert summary["paragraph_accuracy_or_family"] >= summary["paragraph_accuracy"]
    assert summary["paragraph_accuracy_own_code"] >= 0.97
    assert max(summary["low_resource_wrong_paragraph"], summary["low_resource_wrong_short"]) <= 0.03
    assert min(summary["unserved_data_und_or_right_paragraph"], summary["unserved_data_und_or_right_short"]) >= 0.90
    assert figures["date"] and figures["machine"] and figures["command"].startswith("python bench/langid.py")


def test_the_recipe_on_this_data_rebuilds_the_same_file(data_dir: Path, tmp_path: Path) -> None:
    """Same data, same code, same libraries: the same bytes (the build takes about a minute)."""
    card = shipped.read_card()
    used = [item["name"] for item in card["data"]]
    assert data_fingerprint(data_dir, used) == card["recipe"]["data_fingerprint"], "the data folder changed: make langid"
    try:
        rebuilt = build(data_dir, tmp_path)
    except CatalogError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"the pinned Debian packages the recipe reads cannot be fetched here: {exc}")
    assert set(used) <= set(TRAINING_SOURCES)
    with np.load(tmp_path / shipped.MODEL_FILE) as new, np.load(MODEL) as old:
        assert sorted(new.files) == sorted(old.files)
        for name in old.files:
            assert np.array_equal(new[name], old[name]), name
    if rebuilt["libraries"]["zlib"] == card["libraries"].get("zlib"):  # deflate output is zlib's own
        assert rebuilt["sha256"] == card["sha256"]


@pytest.mark.parametrize("damage", ["missing", "truncated", "changed", "no card"])
def test_a_damaged_model_refuses_to_load_and_says_how_to_fix_it(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "langid"
    shutil.copytree(shipped.MODEL_DIR, folder)
    path = folder / shipped.MODEL_FILE
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "changed":
        card = json.loads((folder / shipped.CARD_FILE).read_text())
        card["sha256"] = "0" * 64
        (folder / shipped.CARD_FILE).write_text(json.dumps(card))
    else:
        (folder / shipped.CARD_FILE).unlink()
    with pytest.raises(ShippedFileError) as failure:
        shipped.load_shipped(folder)
    message = str(failure.value)
    assert "make langid" in message
    assert (shipped.CARD_FILE if damage == "no card" else shipped.MODEL_FILE) in message
