"""The test hook that kills the process at a named step of a write, for the crash-consistency tests.

It lives apart from both stores so that ingest and either backend can mark their steps without
importing the other backend (``app.store`` pulls in FAISS, which a PostgreSQL deployment never needs).
"""

from __future__ import annotations

import os

CRASH_ENV = "POLYLEX_CRASH_AT"
"""``POLYLEX_CRASH_AT=<step>`` ends the process with ``os._exit`` at that step (steps: after-read,
after-encode, before-commit, after-commit, index-written, after-index, reindex-staged,
reindex-index-written). Used only by ``tests/test_crash_consistency.py``."""


def crash_point(step: str) -> None:
    """Die here, without cleanup, when the crash test asks for this step."""
    if os.environ.get(CRASH_ENV) == step:
        os._exit(70)
