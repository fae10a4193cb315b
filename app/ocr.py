"""Tesseract OCR of one page image: which models read it, its words with their boxes, its confidence.

**Which models.** A page is read with the model of its language when the language is known (the
user's choice, or the language of the document's pages that have text) and Tesseract has one
(``amh``, ``swa``, ``yor``, ``khm``...); otherwise with the model of its script (``Latin``,
``Ethiopic``, ``Myanmar``...), which covers the languages without their own model (Hausa, Somali,
Zulu, Igbo, Kinyarwanda...). The script comes from Tesseract's orientation and script detection
(OSD) where OSD knows it; OSD has never seen Ethiopic, Khmer, Myanmar or Sinhala (measured: it
calls Amharic "Arabic, upside down", Khmer "Latin"), so a page that reads badly with the first
choice is tried on a strip with the script models OSD cannot tell apart, and read again with the
best of them. What was used is recorded per page (``OcrPage.models``, ``OcrPage.note``).

**Why the ``tesseract`` command (pytesseract) and not tesserocr's in-process API.** A separate
process is what gives a per-page time limit that really stops the work (the process is killed)
and no way for a damaged image to crash the app that reads it. It costs some speed, measured in
``bench/ocr.py`` (README, "Scanned PDFs"): with Tesseract's OpenMP threads left at their default
the command was 4-6 times slower than tesserocr on the 2-core machine (its threads fought the
encoder's); limited to one thread (``OMP_THREAD_LIMIT=1``, set in the environment of the worker
process that reads files, ``app.read_worker``) it is within the ratio the README gives.

Example::

    >>> page = ocr_image(image, lang="am", timeout=120)
    >>> page.models, round(page.confidence), page.words[0].text, page.words[0].box
    ('amh', 91, 'አንቀጽ', (0.118, 0.071, 0.219, 0.083))
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache

from PIL import Image

from app.errors import AppError
from app.page_render import turn_box

LOW_CONFIDENCE = 60.0
"""Below this mean word confidence (0-100) a page's text is marked low-confidence."""
GOOD_CONFIDENCE = 75.0
"""At or above this the first choice of models is kept without trying other scripts."""
_MIN_SCRIPT_CONF = 8.0  # OSD's script/orientation confidence; its wrong answers measured 1.1 - 6.3

# Served languages (app.langid) -> Tesseract's model (Debian package tesseract-ocr-<code>).
LANGUAGE_MODELS: dict[str, str] = {
    "af": "afr", "am": "amh", "ar": "ara", "az": "aze", "be": "bel", "bg": "bul", "bn": "ben", "bo": "bod",
    "br": "bre", "bs": "bos", "ca": "cat", "ceb": "ceb", "cs": "ces", "cy": "cym", "da": "dan", "de": "deu",
    "dv": "div", "dz": "dzo", "el": "ell", "en": "eng", "eo": "epo", "es": "spa", "et": "est", "eu": "eus",
    "fa": "fas", "fi": "fin", "fo": "fao", "fr": "fra", "ga": "gle", "gd": "gla", "gl": "glg", "gu": "guj",
    "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "hy": "hye", "id": "ind", "is": "isl", "it": "ita",
    "ja": "jpn", "ka": "kat", "kk": "kaz", "km": "khm", "kn": "kan", "ko": "kor", "ku": "kmr", "ky": "kir",
    "la": "lat", "lb": "ltz", "lo": "lao", "lt": "lit", "lv": "lav", "mi": "mri", "mk": "mkd", "ml": "mal",
    "mn": "mon", "mr": "mar", "ms": "msa", "mt": "mlt", "my": "mya", "nb": "nor", "ne": "nep", "nl": "nld",
    "nn": "nor", "oc": "oci", "or": "ori", "pa": "pan", "pl": "pol", "ps": "pus", "pt": "por", "ro": "ron",
    "ru": "rus", "sd": "snd", "si": "sin", "sk": "slk", "sl": "slv", "sq": "sqi", "sr": "srp", "sv": "swe",
    "sw": "swa", "ta": "tam", "te": "tel", "tg": "tgk", "th": "tha", "ti": "tir", "tl": "fil", "to": "ton",
    "tr": "tur", "tt": "tat", "ug": "uig", "uk": "ukr", "ur": "urd", "uz": "uzb", "vi": "vie", "yi": "yid",
    "yo": "yor", "zh": "chi_sim", "yue": "chi_tra",
    # The family language ID answers for every Bosnian and Croatian text in Latin script: Croatian's
    # model reads their one alphabet (č ć đ dž lj nj š ž), so a scan keeps the model it had before.
    "hbs": "hrv",
}

# Scripts (the names of app.langid.scripts) -> Tesseract's script model.
SCRIPT_MODELS: dict[str, str] = {
    name: name for name in (
        "Latin", "Cyrillic", "Greek", "Arabic", "Hebrew", "Armenian", "Georgian", "Ethiopic", "Devanagari",
        "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada", "Malayalam", "Sinhala",
        "Thai", "Lao", "Khmer", "Myanmar", "Tibetan", "Thaana", "Hangul")
} | {"Han": "HanS", "Kana": "Japanese"}

# OSD's script names -> ours; only scripts OSD was seen to name correctly.
_OSD_SCRIPTS = {"Latin": "Latin", "Cyrillic": "Cyrillic", "Greek": "Greek", "Arabic": "Arabic", "Hebrew": "Hebrew",
                "Devanagari": "Devanagari", "Bengali": "Bengali", "Han": "Han", "Hangul": "Hangul",
                "Japanese": "Kana", "Katakana": "Kana", "Hiragana": "Kana", "Thai": "Thai", "Tamil": "Tamil",
                "Telugu": "Telugu", "Kannada": "Kannada", "Malayalam": "Malayalam", "Gujarati": "Gujarati",
                "Georgian": "Georgian", "Armenian": "Armenian"}
# Tried on a strip when the first reading is poor: the scripts OSD cannot see or confuses.
TRIAL_SCRIPTS = ("Latin", "Ethiopic", "Arabic", "Devanagari", "Khmer", "Myanmar", "Sinhala", "Thai", "Han",
                 "Cyrillic", "Tibetan", "Bengali")
_NO_SPACE_SCRIPTS = {"Han", "Kana", "Thai", "Lao", "Khmer", "Myanmar"}

DEBIAN_PACKAGES = "tesseract-ocr tesseract-ocr-osd tesseract-ocr-<lang> tesseract-ocr-script-<script>"


class OcrError(AppError, RuntimeError):
    """Tesseract could not read a page (time limit, crash, missing models); the page stays unread."""


@dataclass(frozen=True)
class OcrWord:
    """A word Tesseract read; ``box`` is (x0, y0, x1, y1) in fractions of the page, origin top left."""

    text: str
    box: tuple[float, float, float, float]
    conf: float
    line: int


@dataclass(frozen=True)
class OcrPage:
    """One page read by Tesseract: the text (lines in reading order), its words, the mean word
    confidence (0-100, weighted by length), the models used, the script, the rotation applied
    (degrees clockwise) and a note for people (e.g. that no model of the language exists)."""

    text: str
    words: list[OcrWord] = field(default_factory=list)
    confidence: float = 0.0
    models: str = ""
    script: str | None = None
    rotation: int = 0
    note: str = ""

    @property
    def low_confidence(self) -> bool:
        return self.confidence < LOW_CONFIDENCE


@cache
def tesseract_version() -> str | None:
    """Tesseract's version, or None when the command is not installed."""
    if not shutil.which("tesseract"):
        return None
    import pytesseract

    try:
        return str(pytesseract.get_tesseract_version())
    except Exception:  # a broken install counts as none
        return None


@cache
def installed_models() -> frozenset[str]:
    """The models Tesseract can load (``eng``, ``amh``, ``Latin``, ``osd``...); empty without Tesseract."""
    if tesseract_version() is None:
        return frozenset()
    listing = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    lines = (listing.stdout or listing.stderr).splitlines()
    return frozenset(line.strip().removeprefix("script/") for line in lines[1:] if line.strip())


def script_of_language(lang: str) -> str | None:
    """The script a served language is written in (app.langid's names), None if unknown."""
    from app.langid.scripts import SCRIPT_LANGUAGES

    for script, langs in SCRIPT_LANGUAGES.items():
        if lang in langs:
            return script
    return None


def choose_models(*, lang: str | None, script: str | None, installed: frozenset[str]) -> tuple[str, str]:
    """Tesseract's ``-l`` value for a page and a note for people ("" when nothing to say).

    The language's own model when it has one and it is installed; else the script's model; else
    ``Latin`` (the widest), said in the note.
    """
    from corpora.languages import language_name

    def lang_label(code: str) -> str:
        return f"{language_name(code)} ({code})"

    note = ""
    if lang and lang != "und":
        model = LANGUAGE_MODELS.get(lang)
        if model and model in installed:
            return model, ""
        script = script or script_of_language(lang)
        note = (f"Tesseract has no model for {lang_label(lang)}: read with the {script or 'Latin'} script model"
                if not model else f"the Tesseract model for {lang_label(lang)} ({model}) is not installed: "
                f"read with the {script or 'Latin'} script model")
    model = SCRIPT_MODELS.get(script or "")
    if model and model in installed:
        return model, note
    if script and script != "Latin":
        note = f"no Tesseract model for the {script} script is installed: read as Latin"
    return ("Latin" if "Latin" in installed else "eng"), note


def detect_orientation(image: Image.Image, *, timeout: float) -> tuple[str | None, int]:
    """OSD: (script, rotation clockwise in degrees). The script is None where OSD is unsure or
    names a script it was not seen to get right; the rotation is 0 unless OSD is sure."""
    import pytesseract

    if "osd" not in installed_models():
        return None, 0
    try:
        osd = pytesseract.image_to_osd(image, output_type=pytesseract.Output.DICT, timeout=timeout)
    except (pytesseract.TesseractError, RuntimeError):  # too few characters, or the time limit
        return None, 0
    script = _OSD_SCRIPTS.get(str(osd.get("script"))) if float(osd.get("script_conf", 0)) >= _MIN_SCRIPT_CONF else None
    rotation = int(osd.get("rotate", 0)) if float(osd.get("orientation_conf", 0)) >= _MIN_SCRIPT_CONF else 0
    return script, rotation % 360


def _join(words: list[str]) -> str:
    """Words of one line, with spaces except between two letters of scripts written without them."""
    from app.langid.scripts import dominant_script

    out = ""
    for word in words:
        if out and not (dominant_script(out[-1]) in _NO_SPACE_SCRIPTS
                        and dominant_script(word[0]) in _NO_SPACE_SCRIPTS):
            out += " "
        out += word
    return out


def _read(image: Image.Image, models: str, *, timeout: float, psm: int = 3) -> OcrPage:
    import pytesseract

    try:
        data = pytesseract.image_to_data(image, lang=models, config=f"--psm {psm}", timeout=timeout,
                                         output_type=pytesseract.Output.DICT)
    except RuntimeError as exc:  # pytesseract's time limit: the process was killed
        raise OcrError(f"OCR took longer than {timeout:g} s (POLYLEX_OCR_TIMEOUT)") from exc
    except pytesseract.TesseractError as exc:
        raise OcrError(f"Tesseract failed ({models}): {str(exc.message).strip()[:120] or exc.status}") from exc
    width, height = image.size
    words: list[OcrWord] = []
    lines: dict[tuple[int, int, int], int] = {}
    for i, text in enumerate(data["text"]):
        text, conf = str(text).strip(), float(data["conf"][i])
        if not text or conf < 0:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        line = lines.setdefault(key, len(lines))
        left, top, w, h = (data[name][i] for name in ("left", "top", "width", "height"))
        words.append(OcrWord(text, (left / width, top / height, (left + w) / width, (top + h) / height), conf, line))
    text_lines: list[str] = []
    block_of_line = {line: key[0] for key, line in lines.items()}
    for line in sorted(block_of_line):
        if text_lines and block_of_line.get(line - 1) != block_of_line[line]:
            text_lines.append("")  # a blank line between blocks, as between paragraphs of a text PDF
        text_lines.append(_join([w.text for w in words if w.line == line]))
    letters = sum(len(w.text) for w in words)
    confidence = sum(w.conf * len(w.text) for w in words) / letters if letters else 0.0
    return OcrPage(text="\n".join(text_lines).strip(), words=words, confidence=round(confidence, 1), models=models)


def _script_share(page: OcrPage, script: str) -> float:
    from app.langid.scripts import count_scripts

    counted = count_scripts(page.text)
    return counted.counts.get(script, 0) / counted.letters if counted.letters else 0.0


def _best_script(image: Image.Image, *, installed: frozenset[str], timeout: float) -> str | None:
    """The script whose model reads a strip of the page best (mean confidence x share of its letters)."""
    ink = _ink_rows(image)
    top = ink[len(ink) // 4] if ink else 0
    strip = image.crop((0, max(0, top - 10), image.width, min(image.height, top + max(120, image.height // 10))))
    scores: dict[str, float] = {}
    for script in TRIAL_SCRIPTS:
        model = SCRIPT_MODELS[script]
        if model not in installed:
            continue
        try:
            trial = _read(strip, model, timeout=timeout, psm=6)
        except OcrError:
            continue
        scores[script] = trial.confidence * _script_share(trial, script)
    if not scores or max(scores.values()) <= 0:
        return None
    # Known miss (bench/ocr.py): the Thai model reads Khmer as Thai letters with more confidence
    # (71 against 53 on a strip) than the Khmer model; Khmer needs its language given on ingest.
    return max(scores, key=scores.get)


def _ink_rows(image: Image.Image) -> list[int]:
    """Rows holding dark pixels (text), top to bottom."""
    import numpy as np

    gray = np.asarray(image.convert("L"))
    return [int(i) for i in np.nonzero((gray < 128).sum(axis=1) > 2)[0]]


def ocr_image(image: Image.Image, *, lang: str | None = None, timeout: float = 120.0,
              installed: frozenset[str] | None = None) -> OcrPage:
    """Read one page image.

    Args:
        image: the page, rendered (``app.page_render.render_page``) at 200-300 dpi.
        lang: the page's language when known (the user's choice or the document's), else None.
        timeout: seconds for each Tesseract run on this page.
        installed: the models to choose from (default: what Tesseract has).

    Raises:
        OcrError: Tesseract is missing, failed, or ran out of time.
    """
    if tesseract_version() is None:
        raise OcrError(f"Tesseract is not installed (Debian: {DEBIAN_PACKAGES}; "
                       "or run scripts/install-system-packages.sh)")
    installed = installed_models() if installed is None else installed
    gray = image.convert("L")
    script, rotation = detect_orientation(gray, timeout=timeout)
    if rotation:
        gray = gray.rotate(-rotation, expand=True)  # PIL turns counter-clockwise
    if lang and lang != "und":
        script = script_of_language(lang) or script
    models, note = choose_models(lang=lang, script=script, installed=installed)
    page = _read(gray, models, timeout=timeout)
    if page.words and page.confidence < GOOD_CONFIDENCE and not (lang and LANGUAGE_MODELS.get(lang) == models):
        tried = _best_script(gray, installed=installed, timeout=timeout)
        if tried and SCRIPT_MODELS[tried] != models:
            second = _read(gray, SCRIPT_MODELS[tried], timeout=timeout)
            if second.confidence > page.confidence:
                page, script = second, tried
                note = (f"read with the {tried} script model (OSD and the first reading disagreed); "
                        "choose the document's language on ingest for its own model")
    if page.confidence < LOW_CONFIDENCE:
        note = "; ".join(filter(None, [note, f"low OCR confidence ({page.confidence:.0f}/100)"]))
    # the boxes were found on the image turned upright: turned back, they lie on the page as stored
    words = [OcrWord(w.text, turn_box(w.box, 360 - rotation), w.conf, w.line) for w in page.words]
    return OcrPage(text=page.text, words=words, confidence=page.confidence, models=page.models, script=script,
                   rotation=rotation, note=note)
