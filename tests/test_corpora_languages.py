"""Language metadata: lookups by any code form, the resource rule, coverage of the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpora.languages import (
    LANGUAGES,
    UnknownLanguage,
    get_language,
    is_low_resource,
    language_name,
)


@pytest.mark.parametrize(
    ("tag", "code"),
    [("en", "en"), ("eng", "en"), ("arb", "ar"), ("zho-CN", "zh"), ("tgk-Cyrl", "tg"),
     ("sna-Latn", "sn"), ("snd-Arab", "sd"), ("fuc", "ff"), ("kmr", "ku"), ("nob", "nb"),
     ("nno", "nn"), ("bem", "bem"), ("twi", "tw"), ("en_US", "en"), ("pt-BR", "pt")],
)
def test_get_language_accepts_639_1_639_3_and_tags(tag: str, code: str) -> None:
    assert get_language(tag).code == code


def test_language_record_fields() -> None:
    am = get_language("am")
    assert (am.code, am.iso3, am.name, am.script, am.resource) == ("am", "amh", "Amharic", "Ethi", "low")
    assert get_language("zh").script == "Hani"
    assert get_language("ka").script == "Geor"


def test_unknown_code_raises_named_error() -> None:
    with pytest.raises(UnknownLanguage, match="'xx-nope'"):
        get_language("xx-nope")
    assert language_name("qqq") == "qqq"
    assert is_low_resource("qqq")


def test_resource_rule() -> None:
    for code in ["en", "de", "zh", "ar", "hi", "tr", "th", "el", "ru", "vi", "es", "fr", "it", "nb"]:
        assert not is_low_resource(code), code
    for code in ["am", "sw", "yo", "bem", "bn", "ta", "ne", "km", "nn", "ka", "cs"]:
        assert is_low_resource(code), code
    # every Bosnian and Croatian text is detected as the family: it must not move Croatian to the low group
    assert is_low_resource("hbs") == is_low_resource("hr") is False


def test_codes_unique() -> None:
    assert len({lang.iso3 for lang in LANGUAGES.values()}) == len(LANGUAGES)
    assert all(lang.code == code for code, lang in LANGUAGES.items())


def test_every_ntrex_language_is_known(data_set) -> None:
    folder: Path = data_set("ntrex128-subset")
    files = sorted(folder.glob("newstest2019-*.txt.gz"))
    assert len(files) == 53
    codes = {get_language(f.name.split(".")[1]).code for f in files}
    assert len(codes) == 53  # no two NTREX files collapse onto one code
