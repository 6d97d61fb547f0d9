"""Fixtures every test layer shares, thin over tests/factories.py. Each layer's conftest gives
its own `con` (a fresh database per test for unit tests, the app's cached connection for AppTest);
these build on it.

Both engines: `make test` runs the suite on DuckDB, then the unit and AppTest tests that touch a
database once more on PostgreSQL (LEADCORE_TEST_ENGINE=postgres): a real server from Debian's
binaries in a temp folder, started once per session, one fresh database per test cloned from a
migrated template (~20 ms). Tests that are about DuckDB itself (its file, EXPORT DATABASE, the SQL
box's DuckDB guards) carry `@pytest.mark.duckdb_only`.
"""
from __future__ import annotations

import itertools
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from leadcore import db
from leadcore.postgres_server import LocalServer
from tests import factories
from tests.factories import NOW, ON_POSTGRES

# The fixtures through which a test reaches a database; on PostgreSQL only those tests run again.
DATABASE_FIXTURES = {"con", "db_path", "postgres_database"}


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "duckdb_only(reason): a test of DuckDB itself, not run on PostgreSQL")
    config.addinivalue_line("markers", "postgres_only: needs the PostgreSQL test server (LEADCORE_TEST_ENGINE=postgres)")


def pytest_collection_modifyitems(config, items) -> None:
    keep, drop = [], []
    for item in items:
        uses_database = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        if ON_POSTGRES:
            wanted = uses_database and "e2e" not in item.keywords and not item.get_closest_marker("duckdb_only")
        else:
            wanted = not item.get_closest_marker("postgres_only")
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalServer]:
    """A PostgreSQL server of this test session (fsync off: nothing here must survive a crash).
    Its folder is outside pytest's tmp tree, which tests make unreadable on purpose (backups
    into a folder without rights) and which belongs to root."""
    folder = Path(tempfile.mkdtemp(prefix="leadcore-test-postgres-"))
    server = LocalServer(folder, _free_port()).start(fsync=False)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def _postgres_template(postgres_server) -> str:
    postgres_server.create_database("leadcore_template")
    db.connect(postgres_server.url("leadcore_template")).close()
    return "leadcore_template"


_numbers = itertools.count()


@pytest.fixture
def postgres_database(postgres_server, _postgres_template) -> Iterator[str]:
    """The URL of this test's own PostgreSQL database, already migrated."""
    name = f"test_{os.getpid()}_{next(_numbers)}"
    url = postgres_server.create_database(name, template=_postgres_template)
    yield url
    postgres_server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    with pytest.MonkeyPatch.context() as mp:
        factories.cheap_password_hashing(mp)
        yield


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def cur(con):
    cursor = con.cursor()
    yield cursor
    cursor.close()


@pytest.fixture
def count(cur) -> Callable[..., int]:
    """Rows in a table, optionally with a condition: count('leads'), count('leads', 'status = ?', ['open'])."""
    return lambda table, where="TRUE", params=None: factories.count(cur, table, where, params)


@pytest.fixture
def events(cur) -> Callable[[int], list[tuple]]:
    """(kind, detail, user_id) of a lead's events, oldest first."""
    return lambda lead_id: factories.events(cur, lead_id)
