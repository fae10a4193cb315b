"""The Debian package lists (CI's and the Space's) install a Tesseract model for every language and
script app.ocr may ask for, so a fresh install reads what the app promises."""

from __future__ import annotations

from pathlib import Path

from app.langid import FAMILIES
from app.langid.scripts import SERVED_LANGUAGES
from app.ocr import LANGUAGE_MODELS, SCRIPT_MODELS

REPO = Path(__file__).resolve().parent.parent
_ISO = {"Latin": "latn", "Cyrillic": "cyrl", "Greek": "grek", "Arabic": "arab", "Hebrew": "hebr", "Armenian": "armn",
        "Georgian": "geor", "Ethiopic": "ethi", "Devanagari": "deva", "Bengali": "beng", "Gurmukhi": "guru",
        "Gujarati": "gujr", "Oriya": "orya", "Tamil": "taml", "Telugu": "telu", "Kannada": "knda",
        "Malayalam": "mlym", "Sinhala": "sinh", "Thai": "thai", "Lao": "laoo", "Khmer": "khmr", "Myanmar": "mymr",
        "Tibetan": "tibt", "Thaana": "thaa", "Hangul": "hang", "Han": "hans", "Kana": "jpan"}


def _packages(path: Path) -> set[str]:
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return {name for line in lines for name in line.split()}


def test_every_model_the_app_may_choose_is_in_both_package_lists():
    wanted = {"tesseract-ocr", "tesseract-ocr-osd"}
    wanted |= {"tesseract-ocr-" + model.replace("_", "-") for model in LANGUAGE_MODELS.values()}
    wanted |= {"tesseract-ocr-script-" + _ISO[script] for script in SCRIPT_MODELS}
    for listing in (REPO / "scripts" / "system-packages.txt", REPO / "packages.txt"):
        assert wanted <= _packages(listing), (listing, sorted(wanted - _packages(listing)))


def test_language_models_are_only_for_served_languages():
    assert set(LANGUAGE_MODELS) <= set(SERVED_LANGUAGES) | FAMILIES
    assert LANGUAGE_MODELS["hbs"] == LANGUAGE_MODELS["hr"]  # a Croatian scan, detected as hbs, keeps its model
    # the product's low-resource languages that Tesseract has a model of are mapped to it
    assert {LANGUAGE_MODELS[c] for c in ("sw", "am", "yo", "ne", "km", "my", "si", "ti")} == {
        "swa", "amh", "yor", "nep", "khm", "mya", "sin", "tir"}
