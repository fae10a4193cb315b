"""Scanned PDFs for tests and benchmarks: real text PDFs rendered to images (pypdfium2), optionally
degraded as a photocopier or phone would (noise, blur, a slight skew), written back as image-only
PDFs with fpdf2; plus the hostile kinds (a decompression bomb, a page image of 20,000 x 20,000
pixels, a rotated scan, a scan mixed with text pages).

Example::

    make_scan("law-am.pdf", "law-am-scan.pdf", dpi=200, degrade=True)
"""

from __future__ import annotations

import io
import random
import zlib
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageFilter


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate, whitespace ignored: 1 - matched characters / reference characters
    (difflib's matching blocks, NFC)."""
    import unicodedata
    from difflib import SequenceMatcher

    ref = "".join(unicodedata.normalize("NFC", reference).split())
    hyp = "".join(unicodedata.normalize("NFC", hypothesis).split())
    matched = sum(block.size for block in SequenceMatcher(None, ref, hyp, autojunk=False).get_matching_blocks())
    return 1 - matched / max(len(ref), 1)


def page_images(source: str | Path, *, dpi: int) -> list[Image.Image]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(source))
    try:
        return [document[i].render(scale=dpi / 72).to_pil().convert("L") for i in range(len(document))]
    finally:
        document.close()


def degrade(image: Image.Image, *, seed: int = 0, skew: float = 1.5) -> Image.Image:
    """A worse copy: turned ``skew`` degrees, slightly blurred, with salt-and-pepper noise."""
    rng = random.Random(seed)
    turned = image.rotate(skew, resample=Image.BICUBIC, expand=False, fillcolor=255)
    blurred = turned.filter(ImageFilter.GaussianBlur(radius=0.8))
    pixels = blurred.load()
    width, height = blurred.size
    for _ in range(width * height // 200):  # 0.5 % of the pixels flipped
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = 0 if rng.random() < 0.5 else 255
    return blurred


def write_image_pdf(images: list[Image.Image], target: str | Path, *, dpi: int) -> Path:
    """An image-only PDF: each image fills a page of its own size at ``dpi``."""
    pdf = FPDF(unit="pt")
    pdf.set_compression(True)
    for image in images:
        width, height = image.width * 72 / dpi, image.height * 72 / dpi
        pdf.add_page(format=(width, height))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        pdf.image(buffer, x=0, y=0, w=width, h=height)
    target = Path(target)
    pdf.output(str(target))
    return target


def make_scan(source: str | Path, target: str | Path, *, dpi: int = 200, degraded: bool = False,
              rotate: int = 0, seed: int = 0) -> Path:
    """The scanned copy of a text PDF; ``rotate`` turns every page (degrees counter-clockwise, as
    a sheet put in the scanner sideways)."""
    images = page_images(source, dpi=dpi)
    if degraded:
        images = [degrade(image, seed=seed + i) for i, image in enumerate(images)]
    if rotate:
        images = [image.rotate(rotate, expand=True) for image in images]
    return write_image_pdf(images, target, dpi=dpi)


def make_mixed(text_pdf: str | Path, scanned_pdf: str | Path, target: str | Path) -> Path:
    """Page 1 from the text PDF, page 2 from the scan (of another text), as a half-digitised file."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_page(PdfReader(str(text_pdf)).pages[0])
    writer.add_page(PdfReader(str(scanned_pdf)).pages[0])
    target = Path(target)
    with target.open("wb") as handle:
        writer.write(handle)
    return target


def repeat_pages(source: str | Path, target: str | Path, *, pages: int) -> Path:
    """``pages`` copies of the first page of ``source`` (sharing one image: a 300-page scan in kilobytes)."""
    from pypdf import PdfReader, PdfWriter

    page = PdfReader(str(source)).pages[0]
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_page(page)
    target = Path(target)
    with target.open("wb") as handle:
        writer.write(handle)
    return target


def make_image_bomb(target: str | Path, *, side: int = 20_000) -> Path:
    """A one-page PDF whose image declares ``side`` x ``side`` gray pixels: a few hundred KB of
    deflated zeros that would decode to ``side**2`` bytes (400 MB for 20,000)."""
    compressor = zlib.compressobj(9)
    row_block = bytes(side * 100)
    data = b"".join(compressor.compress(row_block) for _ in range(side // 100)) + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im0 5 0 R >> >> "
         b"/Contents 4 0 R >>"),
    ]
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    offsets.append(out.tell())
    out.write(b"4 0 obj\n<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream\nendobj\n")
    offsets.append(out.tell())
    out.write(b"5 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
              b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % (side, side, len(data)))
    out.write(data + b"\nendstream\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    target = Path(target)
    target.write_bytes(out.getvalue())
    return target


def word_box(pdf_path: str | Path, word: str, *, dpi: float, page: int = 0) -> tuple[float, float, float, float]:
    """The pixel box (x0, y0, x1, y1), in a rendering at ``dpi``, of the first occurrence of ``word``
    in the PDF's text layer, from pdfium's character boxes: where a highlight of that word must be."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf_path))
    try:
        textpage = document[page].get_textpage()
        start, count = textpage.search(word).get_next()
        boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
        height, scale = document[page].get_height(), dpi / 72
        return (min(b[0] for b in boxes) * scale, (height - max(b[3] for b in boxes)) * scale,
                max(b[2] for b in boxes) * scale, (height - min(b[1] for b in boxes)) * scale)
    finally:
        document.close()
