"""Shared fixtures of the unit tests: a fresh DuckDB file per test, the pinned clock, one user of
each role, a contact, the shipped sources and a small lead factory.

Every fixture is a thin wrapper over tests/factories.py, which documents the pinned now
(Friday 2026-11-27 10:00 Europe/Berlin, the same in every test layer). Test modules take the
fixtures, or import plain helpers from tests.factories; they never import this file (pytest may
load several conftest.py under the same module name).
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from leadcore import db
from leadcore.auth import User
from leadcore.contacts import service as contacts
from tests import factories
from tests.factories import ON_POSTGRES, PASSWORD


@pytest.fixture
def password() -> str:
    """The password every fixture user signs in with."""
    return PASSWORD


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory) -> Path:
    """One freshly migrated database file per session; each test gets its own copy of it
    (a copy is several times cheaper than running every migration again)."""
    path = tmp_path_factory.mktemp("template") / "template.duckdb"
    connection = db.connect(path)
    connection.execute("CHECKPOINT")
    connection.close()
    return path


@pytest.fixture
def db_path(request, tmp_path) -> Path | str:
    """This test's own database, already migrated: a DuckDB file, or on PostgreSQL its URL
    (test_database opens fresh files itself)."""
    if ON_POSTGRES:
        return request.getfixturevalue("postgres_database")
    path = tmp_path / "t.duckdb"
    shutil.copyfile(request.getfixturevalue("_migrated_template"), path)
    return path


@pytest.fixture
def con(db_path):
    connection = db.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture
def supervisor(cur, now) -> User:
    return factories.add_user(cur, "clara", "Clara Vogt", "supervisor", now=now)


@pytest.fixture
def seller(cur, now, supervisor) -> User:
    return factories.add_user(cur, "anna", "Anna Becker", "seller", superiors=[supervisor.id], now=now)


@pytest.fixture
def seller2(cur, now, supervisor) -> User:
    return factories.add_user(cur, "ben", "Ben Schulz", "seller", superiors=[supervisor.id], now=now)


@pytest.fixture
def manager(cur, now) -> User:
    return factories.add_user(cur, "dirk", "Dirk Hahn", "manager", now=now)


@pytest.fixture
def analyst(cur, now) -> User:
    return factories.add_user(cur, "eva", "Eva Lang", "analyst", now=now)


@pytest.fixture
def admin(cur, now) -> User:
    return factories.add_user(cur, "frank", "Frank Admin", "admin", now=now)


@pytest.fixture
def contact(cur, now) -> contacts.Contact:
    return factories.make_contact(cur, now)


@pytest.fixture
def source_ids(cur) -> dict[str, int]:
    """Name -> id of the sources a dealership starts with (migration 0002)."""
    return factories.source_ids(cur)


@pytest.fixture
def make_lead(cur, now, contact) -> Callable[..., int]:
    """factories.make_lead on this test's cursor: by `user`, at `at` (default now), for
    `contact_id` (default the contact fixture); other keywords as factories.make_lead."""

    def make(user: User, *, at: datetime | None = None, contact_id: int | None = None, **fields) -> int:
        return factories.make_lead(cur, user, now=at or now,
                                   contact_id=contact_id if contact_id is not None else contact.id, **fields)

    return make


@pytest.fixture
def berlin() -> Callable[[str], datetime]:
    """A Berlin wall-clock time as a user types it: berlin('2026-11-30 09:00')."""
    return factories.berlin


@pytest.fixture
def lead_row(cur) -> Callable[[int], dict]:
    """The lead's row of the leads table, column name -> value."""
    return lambda lead_id: factories.lead_row(cur, lead_id)
