"""Language identification: known answers, ``und`` when unsure, batch == single, document majority."""

from __future__ import annotations

import pytest

from app.langid import SERVED, UND, detect, detect_batch, document_language

# Sentences written for these tests (not taken from the data sets).
WRITTEN = [
    ("The court dismissed the appeal and ordered the applicant to pay the costs.", "en"),
    ("Das Gericht hat die Beschwerde abgewiesen und die Kosten dem Kläger auferlegt.", "de"),
    ("Le tribunal a rejeté le recours et condamné le requérant aux dépens.", "fr"),
    ("Суд отклонил апелляцию и обязал заявителя оплатить судебные расходы.", "ru"),
    ("Ο νόμος αυτός ισχύει από τη δημοσίευσή του στην Εφημερίδα της Κυβερνήσεως.", "el"),
    ("กฎหมายนี้ให้ใช้บังคับตั้งแต่วันถัดจากวันประกาศในราชกิจจานุเบกษา", "th"),
    ("이 법은 공포한 날부터 시행한다.", "ko"),
    ("この法律は、公布の日から施行する。", "ja"),
    ("本法自公布之日起施行。", "zh"),
]


@pytest.mark.parametrize(("text", "lang"), WRITTEN)
def test_written_sentences(text: str, lang: str) -> None:
    found, confidence = detect(text)
    assert found == lang
    assert 0.0 < confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "12 345 678", "!!! ??? ...", "2024-01-31 14:00"])
def test_no_letters_is_und(text: str) -> None:
    assert detect(text) == (UND, 0.0)


def test_batch_equals_single() -> None:
    texts = [text for text, _ in WRITTEN] + ["", "42"]
    assert detect_batch(texts) == [detect(text) for text in texts]


def test_default_answers_only_supported_codes() -> None:
    for lang, _ in detect_batch([text for text, _ in WRITTEN]):
        assert lang in SERVED


def test_unknown_backend_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="langdetect"):
        detect("hello", backend="nope")


def test_langdetect_backend_stays_available() -> None:
    assert detect("The court dismissed the appeal and ordered costs.", backend="langdetect").lang == "en"


def test_document_language_is_length_weighted_majority() -> None:
    assert document_language([("en", 100), ("am", 300), ("en", 150), (UND, 500)]) == ("am", 300 / 1050)
    assert document_language([(UND, 10)]) == (UND, 0.0)
    assert document_language([]) == (UND, 0.0)
