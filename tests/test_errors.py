"""One error family: every error Polylex defines is a PolylexError, and the trainer's command line turns
any of them into one ``error:`` line, including those a command did not foresee (a bad JSONL file)."""

from __future__ import annotations

import importlib
import inspect
import json
import pickle
import pkgutil
from pathlib import Path

import pytest

import app
import corpora
import trainer
from corpora.errors import PolylexError
from trainer.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _our_modules():
    for package in (corpora, trainer, app):
        yield package.__name__
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            if info.name.split(".")[-1].startswith("ui") or info.name.endswith("__main__"):
                continue  # Gradio's UI modules build pages at import; they define no errors
            yield info.name


def test_every_error_we_define_is_a_polylex_error():
    found = []
    for name in _our_modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == name:
                found.append(cls)
                assert issubclass(cls, PolylexError), f"{name}.{cls.__name__} is not a PolylexError"
    names = {cls.__name__ for cls in found}
    assert {"JsonlFormatError", "DataNotFound", "TrainSetupError", "AdapterError", "MergeError", "RefusedFile",
            "ModelMismatch", "StoreError", "UsageError"} <= names


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines, captured.err[-2000:]
    assert lines[-1].startswith("error: "), captured.err[-2000:]
    assert "Traceback" not in captured.err
    return lines[-1]


@pytest.fixture()
def bad_jsonl(tmp_path) -> Path:
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"group": "g1", "lang": "en", "query": "q"}\nnot json at all\n', encoding="utf-8")
    return path


def test_compare_with_a_bad_jsonl_ends_in_one_line(bad_jsonl, tmp_path, capsys):
    code = main(["compare", "--train", str(bad_jsonl), "--out", str(tmp_path / "runs"), "--max-steps", "1",
                 "--report", str(tmp_path / "report")])
    assert code == 2
    assert str(bad_jsonl) in _one_error_line(capsys)


def test_merge_of_a_run_trained_on_a_bad_jsonl_ends_in_one_line(bad_jsonl, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "training_card.json").write_text(json.dumps({"base_model": "base", "config": {
        "train": [str(bad_jsonl)], "dev_groups": 5, "seed": 42, "passage": "sentence"}}))
    assert main(["merge", "--tuned", str(run), "--out", str(tmp_path / "merged")]) == 2
    assert str(bad_jsonl) in _one_error_line(capsys)


def test_what_another_user_deleted_is_refused_in_the_page_s_words(tmp_path, monkeypatch):
    """The store says what is missing (one error, also a KeyError); the page says it in one place's words."""
    import gradio as gr

    from app import ui_errors, ui_library, ui_resources, ui_search
    from app.errors import NotInLibrary
    from app.store import Store

    store = Store.open(tmp_path / "store")
    monkeypatch.setattr(ui_resources, "get_store", lambda: store)
    with pytest.raises(NotInLibrary) as raised:
        store.delete_document(7)
    assert isinstance(raised.value, KeyError) and isinstance(raised.value, PolylexError)
    assert str(raised.value) == "no document with id 7"  # not KeyError's quoted repr, for the command line
    with pytest.raises(KeyError, match="no translation set with id 3 holding document 7") as raised:
        store.unmark_translation_set(3, doc_id=7)
    again = pickle.loads(pickle.dumps(raised.value))  # Gradio's queue and test workers pickle errors
    assert (str(again), again.kind, again.ids, again.holding) == (str(raised.value), "translation set", (3,), 7)
    assert ui_errors.message(again).startswith("Document 7 is no longer in that translation set")
    refusals = {
        "Document 7 is not in the library any more": lambda: ui_library.delete_document(7),
        "Document 8 is not in the library any more": lambda: ui_library.set_language(8, "sw"),
        "Documents 7, 8 are not in the library any more": lambda: ui_library.mark_translations(["8", "7"]),
        "Passage 5 is not in the library any more": lambda: ui_search.other_languages(5),
    }
    for words, call in refusals.items():
        with pytest.raises(gr.Error, match=words):
            call()
    store.close()
