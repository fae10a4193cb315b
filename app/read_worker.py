"""Read one PDF (text, then OCR of its scanned pages) in a worker process with a time and memory limit.

A crafted file can make a parser loop or allocate without end; inside the app's process that would
take the server down for every user. Here :func:`read_isolated` runs :func:`app.pdf.read_pdf` and
:func:`app.scan.ocr_pdf` in a fresh ``python -m app.read_worker`` process, with an address-space
limit (``POLYLEX_FILE_MEMORY_MB``) set inside the child and a wall-time limit
(``POLYLEX_FILE_TIMEOUT``) enforced by the parent. (Not ``multiprocessing``: its spawn and
forkserver children import the parent's main module again, which for ``app.py`` is the whole UI and
the model, measured at 0.6 s a file from a benchmark's main; a fresh interpreter with the PDF
modules costs about 0.15 s, and the next one is started as the current file begins, so it is ready
when the next file comes.) The worker runs in its own session: killing it on a limit or a cancel
kills its Tesseract too, and its temporary folder goes with it. A child that overruns, dies or is
killed means that file is refused with the reason; the app and the other files carry on. OCR
progress comes back page by page; cancelling kills the child between (or inside) pages. The page
view renders stored pages the same way (:func:`page_isolated`).

Example::

    >>> pdf = read_isolated("gazette.pdf", settings=get_settings(), lang="sw")
    >>> len(pdf.pages), sorted(pdf.ocr)
    (3, [1, 2, 3])
"""

from __future__ import annotations

import os
import pickle
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from app.errors import RefusedFile
from app.pdf import PdfText
from app.scan import Cancelled
from corpora.settings import Settings

_POLL_S = 0.1
PAGE_TIMEOUT_S = 120.0  # a page view waits at most this long for its page
_ROOT = Path(__file__).resolve().parent.parent


def _serve(request: BinaryIO, reply: BinaryIO) -> None:
    """The worker: limits itself, reads, sends ``("page", done, total)`` messages, then the outcome."""
    import resource

    from app.pdf import read_pdf
    from app.scan import ocr_pdf

    kind, path, settings, options = pickle.load(request)

    def send(message: tuple) -> None:
        pickle.dump(message, reply)
        reply.flush()

    limit = int(settings.file_memory_mb * 1024 * 1024)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        if kind == "page":
            send(("ok", _page(path, settings=settings, **options)))
            return
        pdf = read_pdf(path, max_mb=options["max_mb"], max_pages=settings.max_pages, max_text_mb=settings.max_text_mb)
        pdf = ocr_pdf(pdf, settings=settings, lang=options["lang"],
                      on_page=lambda done, total: send(("page", done, total)))
        send(("ok", pdf))
    except RefusedFile as exc:
        send(("refused", str(exc)))
    except MemoryError:
        send(("refused", _memory_reason(settings)))
    except Exception as exc:  # a parser's own bug on a crafted file: the file is refused, nothing else
        send(("refused", f"failed while reading: {type(exc).__name__}: {str(exc)[:200]}"))


def _page(path: str, *, settings: Settings, page: int, dpi: int, words: bool) -> tuple[bytes, list | None]:
    """One stored page for the page view: its PNG at ``dpi`` and, if asked, its text layer's words
    as ``(text, box, line)`` tuples (plain types: nothing but built-ins crosses back)."""
    import io

    from app.page_render import open_pdf, render_page, text_layer_words

    with open_pdf(path) as document:
        image = render_page(document, page - 1, dpi=dpi, max_image_mpx=settings.max_image_mpx)
        found = text_layer_words(document, page - 1) if words else None
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), found


def _memory_reason(settings: Settings) -> str:
    return (f"reading it needed more than {settings.file_memory_mb:g} MB of memory (POLYLEX_FILE_MEMORY_MB): "
            "a damaged or hostile file, or raise the limit")


# What the worker may send back: a hostile file could in principle subvert the worker's C parsers,
# so its replies are unpickled with only these classes allowed (plus built-in containers).
_ALLOWED = {("app.pdf", "PdfText"), ("app.ocr", "OcrPage"), ("app.ocr", "OcrWord"), ("pathlib", "PosixPath")}


class _ReplyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"the worker sent a {module}.{name}, which is not allowed")
        return super().find_class(module, name)


def _pump(stream: BinaryIO, messages: queue.Queue) -> None:
    """Move the worker's messages to a queue (None when it closed its end or sent something else)."""
    try:
        while True:  # one unpickler per message: each message is a pickle of its own (its own memo)
            messages.put(_ReplyUnpickler(stream).load())
    except Exception:  # end of stream, a garbled or disallowed message: the worker is treated as dead
        messages.put(None)


_spare: subprocess.Popen | None = None
_spare_lock = threading.Lock()


def _start_worker() -> subprocess.Popen:
    # Its own session (killing it kills its tesseract too), its own temporary folder (pytesseract's
    # files are removed with it), and one OpenMP thread for Tesseract (measured in bench/ocr.py).
    tmp = tempfile.mkdtemp(prefix="polylex-reader-")
    env = {**os.environ, "TMPDIR": tmp, "OMP_THREAD_LIMIT": "1"}
    worker = subprocess.Popen([sys.executable, "-m", "app.read_worker"], cwd=_ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    worker.tmp = tmp  # type: ignore[attr-defined]
    return worker


def _end_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        try:
            os.killpg(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.wait(5)
    shutil.rmtree(getattr(worker, "tmp", ""), ignore_errors=True)


def _take_worker() -> subprocess.Popen:
    """A worker that has started (interpreter and PDF modules loaded while the previous file was being
    read and encoded), and a new spare for the next file. A spare waits on its stdin; when the app
    exits, the pipe closes and the spare ends."""
    global _spare
    with _spare_lock:
        worker = _spare if _spare is not None and _spare.poll() is None else _start_worker()
        _spare = _start_worker()
    return worker


def read_isolated(path: str | Path, *, settings: Settings, lang: str | None = None, max_mb: float | None = None,
                  on_page: Callable[[int, int], None] | None = None,
                  cancel: threading.Event | None = None) -> PdfText:
    """:func:`app.pdf.read_pdf` + :func:`app.scan.ocr_pdf` of one file in a limited worker process.

    Raises:
        RefusedFile: the file's own refusal, or the worker ran over its time or memory limit, or died.
        Cancelled: ``cancel`` was set; the worker is killed and nothing of the file is returned.
    """
    options = {"lang": lang, "max_mb": settings.max_mb if max_mb is None else max_mb}
    return _run(("read", str(Path(path).resolve()), settings, options), settings=settings, on_page=on_page,
                cancel=cancel)


def page_isolated(path: str | Path, *, page: int, dpi: int, words: bool,
                  settings: Settings) -> tuple[bytes, list | None]:
    """A stored PDF's page rendered to PNG (and its text layer's words) in a limited worker process,
    so that a page a hostile file makes pdfium hang or allocate on costs that view, not the app.

    Raises:
        RefusedFile: the page cannot be rendered, or the worker ran over its limits.
    """
    quick = settings.with_overrides(file_timeout=min(settings.file_timeout, PAGE_TIMEOUT_S))
    return _run(("page", str(path), quick, {"page": page, "dpi": dpi, "words": words}), settings=quick)


def _run(request: tuple, *, settings: Settings, on_page: Callable[[int, int], None] | None = None,
         cancel: threading.Event | None = None) -> object:
    """Send one request to a worker and wait for its outcome within the limits."""
    process = _take_worker()
    messages: queue.Queue = queue.Queue()
    pump = threading.Thread(target=_pump, args=(process.stdout, messages), daemon=True)
    pump.start()
    deadline = time.monotonic() + settings.file_timeout
    try:
        pickle.dump(request, process.stdin)
        process.stdin.close()
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled while reading; nothing of this document was stored")
            if time.monotonic() > deadline:
                raise RefusedFile(f"reading it took longer than {settings.file_timeout:g} s (POLYLEX_FILE_TIMEOUT): "
                                  "a damaged or hostile file, or raise the limit for very long scans")
            try:
                message = messages.get(timeout=_POLL_S)
            except queue.Empty:
                if process.poll() is not None:
                    # the worker has ended: its last message (or the end of its stream, None) follows
                    # once the reader thread has unpickled what was written
                    pump.join(timeout=60)
                continue
            if message is None:  # the worker died without a word: the memory limit, or a signal
                process.wait(5)
                raise RefusedFile(_death_reason(process.returncode, settings))
            if message[0] == "page":
                if on_page:
                    on_page(message[1], message[2])
                continue
            if message[0] == "ok":
                return message[1]
            raise RefusedFile(message[1])
    except BrokenPipeError:
        process.wait(5)
        raise RefusedFile(_death_reason(process.returncode, settings)) from None
    finally:
        _end_worker(process)


def _death_reason(exitcode: int | None, settings: Settings) -> str:
    if exitcode is not None and exitcode < 0:
        return (f"the PDF reader was stopped by signal {-exitcode} (out of memory? limit "
                f"{settings.file_memory_mb:g} MB, POLYLEX_FILE_MEMORY_MB): a damaged or hostile file")
    return (f"the PDF reader stopped unexpectedly (exit code {exitcode}; memory limit {settings.file_memory_mb:g} MB, "
            "POLYLEX_FILE_MEMORY_MB): a damaged or hostile file")


if __name__ == "__main__":
    # Messages go out on a copy of stdout; anything a library prints goes to stderr instead.
    _reply = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.stdin.buffer, _reply)
