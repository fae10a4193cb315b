"""The one error family of Polylex: every error a user can cause derives from :class:`PolylexError`.

Each layer has its own subclass (``DataError`` here, ``trainer.errors.TrainerError``,
``app.errors.AppError``); each concrete error also keeps the builtin base that says what kind of
problem it is (``ValueError``, ``FileNotFoundError``), so code that catches those still works. The
command lines translate the whole family into one ``error: ...`` line and exit code 2 in one
place each (``trainer.cli.main``, ``app.cli.main``); the UI does the same in ``app.ui_errors``.
"""

from __future__ import annotations


class PolylexError(Exception):
    """Base class of every Polylex error; its message is one line meant for the user."""


class DataError(PolylexError):
    """Base class of the data layer's errors (``corpora``): data sets, files, languages."""
