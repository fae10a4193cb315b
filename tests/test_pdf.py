"""app.pdf: text per page from real PDFs in several scripts, and one clear refusal per bad input."""

from __future__ import annotations

import pytest

from app.errors import RefusedFile
from app.pdf import clean_text, find_pdfs, read_pdf
from tests import pdf_factory as factory

pytestmark = pytest.mark.skipif(not factory.fonts_available(),
                                reason=f"Noto fonts missing: apt-get install {factory.DEBIAN_PACKAGES}")


@pytest.fixture(scope="module")
def udhr_pdf(tmp_path_factory):
    """Nine pages, one per language of ``factory.UDHR`` (Latin, Cyrillic, Arabic, Devanagari,
    Ethiopic, Han), with a metadata title."""
    return factory.make_udhr_pdf(tmp_path_factory.mktemp("pdf") / "udhr.pdf", list(factory.UDHR), title="UDHR")


def test_reads_every_script_page_by_page(udhr_pdf):
    doc = read_pdf(udhr_pdf, max_mb=100)
    assert doc.title == "UDHR"
    assert len(doc.pages) == len(factory.UDHR)
    for page, lang in zip(doc.pages, factory.UDHR):
        # every word of the article text comes back, in logical order
        for paragraph in factory.UDHR[lang][1::2]:
            expected = clean_text(paragraph)
            flat = page.replace("\n", " " if lang != "zh" else "")
            for word in expected.split()[:6]:
                assert word in flat, (lang, word)
    assert len(doc.sha256) == 64
    assert len(doc.text_sha256) == 64


def test_arabic_comes_back_in_reading_order(udhr_pdf):
    page = read_pdf(udhr_pdf, max_mb=100).pages[list(factory.UDHR).index("ar")]
    assert "الكرامة والحقوق" in page  # two words in logical order, not mirrored
    assert "\x00" not in page


def test_cjk_has_no_nul_separators(udhr_pdf):
    page = read_pdf(udhr_pdf, max_mb=100).pages[list(factory.UDHR).index("zh")]
    assert "人人生而自由" in page


def test_title_falls_back_to_first_line(tmp_path):
    path = factory.make_pdf(tmp_path / "untitled.pdf", [factory.UDHR["de"]])
    assert read_pdf(path, max_mb=100).title == "Artikel 1"


def test_clean_text_normalises():
    assert clean_text("a\x00b\u00a0\u00a0c\r\nﬁne\x17") == "ab c\nfine"
    assert clean_text("\ufeb3\ufee0\ufe8e\ufee1") == "سلام"  # Arabic presentation forms -> letters


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, udhr_pdf):
    folder = tmp_path_factory.mktemp("bad")
    return {
        "not-a-pdf": factory.make_fake_pdf(folder / "letter.pdf"),
        "empty": factory.make_empty_file(folder / "empty.pdf"),
        "truncated": factory.make_truncated_pdf(folder / "truncated.pdf", udhr_pdf),
        "corrupt": factory.make_corrupt_pdf(folder / "corrupt.pdf", udhr_pdf),
        "encrypted": factory.make_encrypted_pdf(folder / "locked.pdf", udhr_pdf, user_password="s3cret"),
        "scanned": factory.make_scanned_pdf(folder / "scan.pdf"),
    }


@pytest.mark.parametrize("kind, message", [
    ("not-a-pdf", r"^not a PDF \(no %PDF header"),
    ("empty", r"^empty file"),
    ("truncated", r"^truncated PDF"),
    ("corrupt", r"^corrupt PDF"),
    ("encrypted", r"^encrypted PDF that needs a password"),
])
def test_bad_input_is_refused_with_one_line(bad_files, kind, message):
    with pytest.raises(RefusedFile, match=message) as info:
        read_pdf(bad_files[kind], max_mb=100)
    assert "\n" not in str(info.value)


def test_rc4_encryption_with_a_password_is_refused_too(tmp_path, udhr_pdf):
    path = factory.make_encrypted_pdf(tmp_path / "rc4.pdf", udhr_pdf, user_password="pw", algorithm="RC4-128")
    with pytest.raises(RefusedFile, match="needs a password"):
        read_pdf(path, max_mb=100)


@pytest.mark.parametrize("algorithm", ["AES-256", "RC4-128"])
def test_empty_user_password_opens(tmp_path, udhr_pdf, algorithm):
    path = factory.make_encrypted_pdf(tmp_path / "open.pdf", udhr_pdf, user_password="", algorithm=algorithm)
    doc = read_pdf(path, max_mb=100)
    assert "Статья 3" in doc.pages[3]


def test_size_limit(udhr_pdf):
    size_mb = udhr_pdf.stat().st_size / 1024 / 1024
    with pytest.raises(RefusedFile, match=r"over the .* MB limit \(POLYLEX_MAX_MB\)"):
        read_pdf(udhr_pdf, max_mb=size_mb / 2)
    assert read_pdf(udhr_pdf, max_mb=size_mb * 2).pages


def test_a_pdf_is_a_pdf_whatever_its_extension(tmp_path, udhr_pdf):
    renamed = tmp_path / "scan.txt"
    renamed.write_bytes(udhr_pdf.read_bytes())
    assert len(read_pdf(renamed, max_mb=100).pages) == len(factory.UDHR)


def test_find_pdfs_expands_folders_and_refuses_empty_ones(tmp_path, udhr_pdf):
    nested = tmp_path / "library" / "sub"
    nested.mkdir(parents=True)
    (nested / "a.PDF").write_bytes(udhr_pdf.read_bytes())
    (tmp_path / "library" / "notes.txt").write_text("no")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.md").write_text("nothing here")
    files, refused = find_pdfs([tmp_path / "library", empty, tmp_path / "missing.pdf", udhr_pdf, udhr_pdf])
    assert files == [nested / "a.PDF", udhr_pdf]
    assert [(path.name, reason.split(" (")[0]) for path, reason in refused] == [
        ("empty", "folder has no PDF files"), ("missing.pdf", "no such file or folder")]


@pytest.mark.skipif(not factory._HAVE_HARFBUZZ, reason="uharfbuzz (test dependency) is not installed")
def test_shaped_devanagari_comes_back_without_control_characters(tmp_path):
    """Shaped Indic text (conjuncts) extracts with stray control characters; none reach the text."""
    from pypdf import PdfReader

    path = factory.make_pdf(tmp_path / "hi.pdf", [factory.UDHR["hi"]], shape_all=True)
    raw = PdfReader(path).pages[0].extract_text()
    assert any(ord(ch) < 32 and ch != "\n" for ch in raw)  # the quirk is real
    page = read_pdf(path, max_mb=100).pages[0]
    assert not any(ord(ch) < 32 and ch != "\n" for ch in page)
    assert "अनुच्छेद 1" in page
    assert "अधिकार" in page
