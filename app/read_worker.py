"""Read one PDF (text, then OCR of its scanned pages) in a worker process with a time and memory limit.

A crafted file can make a parser loop or allocate without end; inside the app's process that would
take the server down for every user. Here :func:`read_isolated` runs :func:`app.pdf.read_pdf` and
:func:`app.scan.ocr_pdf` in a child process (``forkserver``: forked from a small server that has the
PDF modules imported, never from the app with its model and threads), with an address-space limit
(``POLYLEX_FILE_MEMORY_MB``) set inside the child and a wall-time limit (``POLYLEX_FILE_TIMEOUT``)
enforced by the parent. A child that overruns, dies or is killed means that file is refused with the
reason; the app and the other files carry on. OCR progress comes back page by page; cancelling
kills the child between (or inside) pages.

Example::

    >>> pdf = read_isolated("gazette.pdf", settings=get_settings(), lang="sw")
    >>> len(pdf.pages), sorted(pdf.ocr)
    (3, [1, 2, 3])
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.errors import RefusedFile
from app.pdf import PdfText
from app.scan import Cancelled
from corpora.settings import Settings

_POLL_S = 0.1
_context = None
_context_lock = threading.Lock()


def _get_context():
    global _context
    with _context_lock:
        if _context is None:
            _context = multiprocessing.get_context("forkserver")
            _context.set_forkserver_preload(["app.scan", "app.pdf", "pypdf", "pypdfium2"])
        return _context


def _child(conn, path: str, settings: Settings, lang: str | None, max_mb: float) -> None:
    """The worker: limits itself, reads, sends ``("page", done, total)`` messages, then the outcome."""
    import resource

    from app.pdf import read_pdf
    from app.scan import ocr_pdf

    limit = int(settings.file_memory_mb * 1024 * 1024)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        pdf = read_pdf(path, max_mb=max_mb, max_pages=settings.max_pages)
        pdf = ocr_pdf(pdf, settings=settings, lang=lang, on_page=lambda done, total: conn.send(("page", done, total)))
        conn.send(("ok", pdf))
    except RefusedFile as exc:
        conn.send(("refused", str(exc)))
    except MemoryError:
        conn.send(("refused", _memory_reason(settings)))
    except Exception as exc:  # a parser's own bug on a crafted file: the file is refused, nothing else
        conn.send(("refused", f"failed while reading: {type(exc).__name__}: {str(exc)[:200]}"))
    finally:
        conn.close()


def _memory_reason(settings: Settings) -> str:
    return (f"reading it needed more than {settings.file_memory_mb:g} MB of memory (POLYLEX_FILE_MEMORY_MB): "
            "a damaged or hostile file, or raise the limit")


def read_isolated(path: str | Path, *, settings: Settings, lang: str | None = None, max_mb: float | None = None,
                  on_page: Callable[[int, int], None] | None = None,
                  cancel: threading.Event | None = None) -> PdfText:
    """:func:`app.pdf.read_pdf` + :func:`app.scan.ocr_pdf` of one file in a limited worker process.

    Raises:
        RefusedFile: the file's own refusal, or the worker ran over its time or memory limit, or died.
        Cancelled: ``cancel`` was set; the worker is killed and nothing of the file is returned.
    """
    context = _get_context()
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, daemon=True,
                              args=(child, str(path), settings, lang, settings.max_mb if max_mb is None else max_mb))
    process.start()
    child.close()
    deadline = time.monotonic() + settings.file_timeout
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled while reading; nothing of this document was stored")
            if time.monotonic() > deadline:
                raise RefusedFile(f"reading it took longer than {settings.file_timeout:g} s (POLYLEX_FILE_TIMEOUT): "
                                  "a damaged or hostile file, or raise the limit for very long scans")
            if parent.poll(_POLL_S):
                try:
                    message = parent.recv()
                except EOFError:  # the worker died without a word: killed by the memory limit or a signal
                    process.join(5)
                    raise RefusedFile(_death_reason(process.exitcode, settings)) from None
                kind = message[0]
                if kind == "page":
                    if on_page:
                        on_page(message[1], message[2])
                    continue
                if kind == "ok":
                    return message[1]
                raise RefusedFile(message[1])
            if not process.is_alive() and not parent.poll():
                raise RefusedFile(_death_reason(process.exitcode, settings))
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        parent.close()


def _death_reason(exitcode: int | None, settings: Settings) -> str:
    if exitcode is not None and exitcode < 0:
        return (f"the PDF reader was stopped by signal {-exitcode} (out of memory? limit "
                f"{settings.file_memory_mb:g} MB, POLYLEX_FILE_MEMORY_MB): a damaged or hostile file")
    return (f"the PDF reader stopped unexpectedly (exit code {exitcode}; memory limit {settings.file_memory_mb:g} MB, "
            "POLYLEX_FILE_MEMORY_MB): a damaged or hostile file")
