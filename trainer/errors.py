"""The trainer layer's errors: all derive from :class:`TrainerError` (a ``PolylexError``).

The concrete errors live beside the code that raises them (``TrainSetupError`` in ``train``,
``MergeError`` in ``merge`` ...); ``trainer.cli.main`` turns any of them into one ``error:`` line.
"""

from __future__ import annotations

from corpora.errors import PolylexError


class TrainerError(PolylexError):
    """Base class of the trainer's errors: models, training set-up, merging, adapters."""
