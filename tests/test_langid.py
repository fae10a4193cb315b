"""Language identification: known answers, ``und`` when unsure or unserved, batch == single, no data."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.langid import SERVED, UND, detect, detect_batch, document_language, supported_languages
from app.langid.ngram import NgramModel, train_model
from app.langid.texts import LabelledText, heldout_samples, labelled_texts
from corpora.settings import get_settings

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
    ("Mahakama imetupilia mbali rufaa hiyo na kumwamuru mwombaji kulipa gharama.", "sw"),
    ("ሕገ መንግሥቱ የአገሪቱ የበላይ ሕግ ነው።", "am"),
    ("ሕገ መንግስቲ ኣብ ሃገር ዝለዓለ ሕጊ እዩ።", "ti"),
    ("სასამართლომ სააპელაციო საჩივარი არ დააკმაყოფილა.", "ka"),  # a script of one language
]

# The same kind of sentence in languages Polylex does not serve: the answer must be ``und``.
UNSERVED = [
    "Sąd oddalił apelację i obciążył skarżącego kosztami postępowania.",  # Polish
    "Soud zamítl odvolání a uložil žalobci zaplatit náklady řízení.",  # Czech
    "De rechtbank heeft het beroep verworpen en de eiser in de kosten veroordeeld.",  # Dutch
    "Domstolen avslog överklagandet och ålade klaganden att betala rättegångskostnaderna.",  # Swedish
    "Tuomioistuin hylkäsi valituksen ja velvoitti valittajan maksamaan oikeudenkäyntikulut.",  # Finnish
    "A bíróság elutasította a fellebbezést, és a kérelmezőt kötelezte a költségek megfizetésére.",  # Hungarian
    "Суд відхилив апеляцію та зобов’язав заявника сплатити судові витрати.",  # Ukrainian
    "دادگاه درخواست تجدیدنظر را رد کرد و خواهان را به پرداخت هزینه‌ها محکوم کرد.",  # Persian
    "בית המשפט דחה את הערעור וחייב את המערער בהוצאות.",  # Hebrew: a script we serve nothing in
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.",  # Latin
]

# Low-resource languages whose held-out paragraphs must be recognised (most unknown to CLD3/fastText).
LOW_RESOURCE = ["am", "ti", "ha", "ig", "yo", "zu", "xh", "rw", "so", "sw", "km", "lo", "my", "si", "ne", "om",
                "wo", "tn", "nso", "ss", "ve", "bem", "ee", "ff", "ky", "tg", "ps", "sd", "fon", "tw"]


@pytest.mark.parametrize(("text", "lang"), WRITTEN)
def test_written_sentences(text: str, lang: str) -> None:
    found, confidence = detect(text)
    assert found == lang
    assert 0.0 < confidence <= 1.0


@pytest.mark.parametrize("text", UNSERVED)
def test_unserved_languages_are_und(text: str) -> None:
    assert detect(text) == (UND, 0.0)


@pytest.mark.parametrize("text", ["", "   ", "12 345 678", "!!! ??? ...", "2024-01-31 14:00", "§ 4 (1)"])
def test_no_letters_is_und(text: str) -> None:
    assert detect(text) == (UND, 0.0)


@pytest.mark.parametrize("text", ["asdkj qwpoe zxmcn vbnmq", "xxxxx yyyyy zzzzz", "qwertyuiop asdfghjkl"])
def test_gibberish_is_und(text: str) -> None:
    assert detect(text).lang == UND


def test_heldout_paragraphs_of_low_resource_languages(data_set) -> None:
    """Twenty held-out paragraphs per language (documents never trained on): 18 right, at most one wrong code."""
    data = data_set("ntrex128-subset").parent
    samples = heldout_samples(labelled_texts(data, ("ntrex128-subset", "afriqa")), length="paragraph", per_lang=20)
    texts = [(lang, text) for lang in LOW_RESOURCE for text in samples[lang]]
    found = detect_batch([text for _, text in texts])
    for lang in LOW_RESOURCE:
        answers = [f.lang for (truth, _), f in zip(texts, found) if truth == lang]
        assert len(answers) == 20
        assert sum(answer == lang for answer in answers) >= 18, (lang, answers)
        assert sum(answer not in (lang, UND) for answer in answers) <= 1, (lang, answers)


def test_heldout_short_queries(data_set) -> None:
    """AfriQA test questions (at most 10 words): most right, and a wrong answer is rare."""
    data = data_set("afriqa").parent
    samples = heldout_samples(labelled_texts(data, ("afriqa",)), length="short", per_lang=20)
    texts = [(lang, text) for lang, items in samples.items() for text in items]
    found = [f.lang for f in detect_batch([text for _, text in texts])]
    right = sum(answer == lang for (lang, _), answer in zip(texts, found))
    wrong = sum(answer not in (lang, UND) for (lang, _), answer in zip(texts, found))
    assert right >= 0.85 * len(texts)
    assert wrong <= 0.08 * len(texts)


def test_heldout_text_is_never_trained_on(data_set) -> None:
    data = data_set("ntrex128-subset").parent
    texts = list(labelled_texts(data, ("ntrex128-subset",)))
    split_of_doc: dict[str, set[str]] = {}
    for item in texts:
        split_of_doc.setdefault(item.document, set()).add(item.split)
    assert all(len(splits) == 1 for splits in split_of_doc.values())  # a news story is all train or all test
    test_texts = {" ".join(item.text.split()) for item in texts if item.split == "test"}
    samples = heldout_samples(texts, length="short", per_lang=5)
    assert all(any(query in text for text in test_texts) for queries in samples.values() for query in queries)


def test_training_reads_only_the_train_split() -> None:
    def line(lang: str, doc: str, text: str) -> LabelledText:
        return LabelledText(lang, "written", doc, "sentence", text)

    texts = [line("en", f"split:train:{i}", "the court shall decide on the appeal") for i in range(30)]
    texts += [line("sw", f"split:train:{i}", "mahakama itaamua juu ya rufaa hiyo") for i in range(30)]
    texts += [line("yo", f"split:test:{i}", "ilé ẹjọ́ yóò pinnu lórí ẹ̀bẹ̀ náà") for i in range(30)]
    model = train_model(texts, ["en", "sw", "yo"])
    assert model.languages == {"en", "sw"}
    assert model.best(["the appeal"], [("en", "sw")])[0][0] == "en"


def test_model_survives_the_cache_file(tmp_path: Path) -> None:
    texts = [LabelledText(lang, "written", f"split:train:{i}", "sentence", text) for i in range(30)
             for lang, text in (("en", "the court shall decide"), ("de", "das gericht entscheidet"))]
    model = train_model(texts, ["en", "de"])
    model.save(tmp_path / "model.npz")
    again = NgramModel.load(tmp_path / "model.npz")
    probe = ["das gericht", "the court", "gericht court"]
    assert again.best(probe, [("en", "de")] * 3) == model.best(probe, [("en", "de")] * 3)


def test_batch_equals_single() -> None:
    texts = [text for text, _ in WRITTEN] + UNSERVED[:3] + ["", "42", "asdkj qwpoe"]
    assert detect_batch(texts) == [detect(text) for text in texts]


def test_default_answers_only_served_codes() -> None:
    for lang, _ in detect_batch([text for text, _ in WRITTEN] + UNSERVED):
        assert lang in SERVED or lang == UND


def test_without_the_data_the_detectors_still_work(tmp_path: Path) -> None:
    """A fresh clone: no data folder, so no n-gram classifier; CLD3 and the script rules remain."""
    settings = get_settings(data=tmp_path / "absent", cache=tmp_path / "cache")
    supported = supported_languages(settings=settings)
    assert {"en", "sw", "am", "ti", "km", "ha", "yo"} <= supported
    assert not {"bem", "fon", "tw", "wo", "nso"} & supported  # only the classifier knows these
    assert detect("Mahakama imetupilia mbali rufaa hiyo na kumwamuru mwombaji kulipa gharama.", settings=settings).lang == "sw"
    assert detect("ሕገ መንግሥቱ የአገሪቱ የበላይ ሕግ ነው።", settings=settings).lang == "am"
    assert detect("ሕገ መንግስቲ ኣብ ሃገር ዝለዓለ ሕጊ እዩ።", settings=settings).lang == "ti"
    assert detect("Sąd oddalił apelację i obciążył skarżącego kosztami postępowania.", settings=settings).lang == UND
    assert not (tmp_path / "cache").exists()  # nothing to train, nothing written


def test_unknown_backend_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="langdetect"):
        detect("hello", backend="nope")


def test_third_party_backends_stay_available() -> None:
    text = "The court dismissed the appeal and ordered the applicant to pay the costs."
    for backend in ("langdetect", "cld3", "fasttext"):
        assert detect(text, backend=backend).lang == "en"
    assert detect("", backend="cld3") == (UND, 0.0)


def test_document_language_is_length_weighted_majority() -> None:
    assert document_language([("en", 100), ("am", 300), ("en", 150), (UND, 500)]) == ("am", 300 / 1050)
    assert document_language([(UND, 10)]) == (UND, 0.0)
    assert document_language([]) == (UND, 0.0)


def test_letters_of_other_scripts_do_not_mislead_the_detectors() -> None:
    """The Arabic demo law, whole: its title starts with a Latin "DEMO", which made CLD3 call the
    whole text Swedish (it lets the first letters' script steer it) and the answer ``und``, while
    every line alone was Arabic."""
    from app.demo_corpus import TEXTS
    from app.langid.backends import get_backend
    from app.langid.scripts import only_script

    lines = [line for line in (TEXTS / "tenancy.ar.txt").read_text(encoding="utf-8").split("\n") if line.strip()]
    whole = "\n".join(lines)
    assert lines[0].startswith("DEMO –")
    assert get_backend("cld3").predict([whole])[0][0] != "ar"
    assert {d.lang for d in detect_batch(lines)} == {"ar"}
    assert detect(whole).lang == "ar"
    assert only_script(whole, "Arabic").count("DEMO") == 0
    assert "المادة 4" in only_script(whole, "Arabic")
    assert only_script("Kifungu 1 — ቀን Привет", "Latin").split() == ["Kifungu", "1", "—"]
    # Keeping only the script's letters must not turn an unserved language into a served one.
    assert detect("DEMO – " + UNSERVED[7]).lang == UND  # Persian


def test_whole_demo_documents_are_classified_as_well_as_their_lines() -> None:
    from app.demo_corpus import demo_documents

    for document in demo_documents():
        lines = [document.title, *(line for p in document.paragraphs for line in p.split("\n"))]
        assert document.lang in {d.lang for d in detect_batch(lines)}, document.name  # lines may be short and mixed
        assert detect("\n".join(lines)).lang == document.lang, document.name
        assert detect("\n\n".join(document.paragraphs)).lang == document.lang, document.name
