"""Shared fixtures of the unit tests: a fresh DuckDB file per test, a pinned clock, one user of
each role, a contact, the shipped sources and a small lead factory.

Time is pinned to Friday 2026-11-27 10:00 Europe/Berlin (09:00 UTC); nothing here reads the
wall clock. With the shipped settings a lead arriving then is due at 12:00, reminded at 11:30
and escalated to stage 2 at 16:00 (Berlin).

Test modules do not import from this file (pytest may load several conftest.py under the
same module name); every helper is a fixture.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher

from leadcore import auth
from leadcore import db
from leadcore.contacts import service as contacts
from leadcore.leads import service as leads
from leadcore.admin import sources
from leadcore.admin import users
from leadcore.auth import User

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=BERLIN)   # a Friday, inside working hours
PASSWORD = "correct horse battery"


def _berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """argon2 with its production cost takes ~90 ms per hash; six users per test would make the
    suite slow. Same algorithm, minimal cost parameters: verification is still real. (The dummy
    hash an unknown username is checked against gets the same cost, as in production.)"""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", cheap)
        mp.setattr(auth, "_DUMMY_HASH", cheap.hash("not a real password"))
        yield


@pytest.fixture
def password() -> str:
    """The password every fixture user signs in with."""
    return PASSWORD


@pytest.fixture
def now() -> datetime:
    return NOW


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
def db_path(tmp_path, _migrated_template) -> Path:
    """This test's own database file, already migrated (test_database opens fresh files itself)."""
    path = tmp_path / "t.duckdb"
    shutil.copyfile(_migrated_template, path)
    return path


@pytest.fixture
def con(db_path):
    connection = db.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture
def cur(con):
    cursor = con.cursor()
    yield cursor
    cursor.close()


def _add(cur, now, username, full_name, role, superiors=None) -> User:
    return users.add_user(cur, now, username, full_name, f"{username}@autohaus.example",
                          role, PASSWORD, location="Berlin", superiors=superiors)


@pytest.fixture
def supervisor(cur, now) -> User:
    return _add(cur, now, "clara", "Clara Vogt", "supervisor")


@pytest.fixture
def seller(cur, now, supervisor) -> User:
    return _add(cur, now, "anna", "Anna Becker", "seller", [supervisor.id])


@pytest.fixture
def seller2(cur, now, supervisor) -> User:
    return _add(cur, now, "ben", "Ben Schulz", "seller", [supervisor.id])


@pytest.fixture
def manager(cur, now) -> User:
    return _add(cur, now, "dirk", "Dirk Hahn", "manager")


@pytest.fixture
def analyst(cur, now) -> User:
    return _add(cur, now, "eva", "Eva Lang", "analyst")


@pytest.fixture
def admin(cur, now) -> User:
    return _add(cur, now, "frank", "Frank Admin", "admin")


@pytest.fixture
def contact(cur, now) -> contacts.Contact:
    return contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(
        salutation="Herr", first_name="Max", last_name="Mustermann",
        email="max.mustermann@example.de", phone="0171 1234567",
        street="Hauptstraße 1", postal_code="10115", city="Berlin"))


@pytest.fixture
def source_ids(cur) -> dict[str, int]:
    """Name -> id of the sources a dealership starts with (migration 0002)."""
    return {s.name: s.id for s in sources.list_sources(cur, active_only=False)}


@pytest.fixture
def make_lead(cur, now, contact, source_ids) -> Callable[..., int]:
    """Create a lead through leads.create_lead; keyword arguments override the defaults."""

    def make(user: User, *, at: datetime | None = None, editor: User | None = None,
             contact_id: int | None = None, source: str = "mobile.de", lead_type: str = "new_car",
             subject: str = "Golf 8 GTI, test drive", note: str = "",
             resubmission_at: datetime | None = None) -> int:
        return leads.create_lead(cur, user, at or now, leads.LeadInput(
            contact_id=contact_id if contact_id is not None else contact.id,
            source_id=source_ids[source], lead_type=lead_type, subject=subject,
            editor_id=(editor or user).id, note=note, resubmission_at=resubmission_at))

    return make


@pytest.fixture
def berlin() -> Callable[[str], datetime]:
    """A Berlin wall-clock time as a user types it: berlin('2026-11-30 09:00')."""
    return _berlin


@pytest.fixture
def count(cur) -> Callable[[str], int]:
    """Rows in a table: count('leads')."""
    return lambda table: cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
