"""Test data for every layer: unit tests, the AppTest suite and the browser tests' seeding.

Plain functions and constants, no fixtures: each conftest.py wraps them in thin fixtures, and
test modules may import them directly (`from tests.factories import ...`). Everything writes
through leadcore's services, so test data obeys the same rules as the product's.

The pinned now, the same in all three layers (unit `now`, AppTest `LEADCORE_NOW`, the browser
server's `LEADCORE_NOW` = PINNED_NOW):

    Friday 2026-11-27 10:00 Europe/Berlin (09:00 UTC), inside working hours.

With the shipped settings (SPEC §4: Mon-Fri 08-18, Sat 09-13, Sun closed; stage 1 = 2 working
hours, reminder 30 min before it, stage 2 = 4 h after it) a lead arriving then is due at 12:00,
reminded at 11:30 and escalated to stage 2 at 16:00. A Friday, so the next day is a short
Saturday and the one after it a closed Sunday: tests that cross the weekend start from here.
The day before (Thursday 26.11.) is an ordinary working day.

Nothing here reads the wall clock; every function that writes takes `now` (default NOW).
"""
from __future__ import annotations

import os
from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import duckdb
import pytest
from argon2 import PasswordHasher

from leadcore import auth
from leadcore.admin import users
from leadcore.admin.absences import Absence
from leadcore.auth import User
from leadcore.contacts import service as contacts
from leadcore.leads import distribution
from leadcore.leads import service as leads

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=BERLIN)     # Friday, inside working hours
PINNED_NOW = NOW.isoformat()                            # as LEADCORE_NOW reads it
# Which engine the database tests run on (tests/conftest.py): duckdb, or postgres.
ON_POSTGRES = os.environ.get("LEADCORE_TEST_ENGINE", "duckdb") == "postgres"


def database_env(database) -> dict[str, str]:
    """The environment of a process working on this test's database (a DuckDB file or a URL)."""
    env = {key: value for key, value in os.environ.items() if key != "LEADCORE_DATABASE_URL"}
    if str(database).startswith("postgresql://"):
        return {**env, "LEADCORE_DATABASE_URL": str(database)}
    return {**env, "LEADCORE_DB": str(database)}


def use_database(monkeypatch, database) -> None:
    """Point the command line and the app of this process at this test's database."""
    monkeypatch.delenv("LEADCORE_DATABASE_URL", raising=False)
    for key, value in database_env(database).items():
        if key.startswith("LEADCORE_D"):
            monkeypatch.setenv(key, value)
PASSWORD = "correct horse battery"

# The customer every layer's default contact is.
MAX_MUSTERMANN = {"salutation": "Herr", "first_name": "Max", "last_name": "Mustermann",
                  "email": "max.mustermann@example.de", "phone": "0171 1234567",
                  "street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin"}


def berlin(text: str) -> datetime:
    """A Berlin wall-clock time as a user types it: berlin('2026-11-30 09:00')."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


# --- people ----------------------------------------------------------------------------------

def cheap_password_hashing(mp: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost takes ~90 ms per hash, and every test adds several users:
    same algorithm, minimal cost parameters, so verification stays real. The dummy hash an
    unknown username is checked against gets the same cost, as in production."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    mp.setattr(auth, "_hasher", cheap)
    mp.setattr(auth, "_DUMMY_HASH", cheap.hash("not a real password"))


def add_user(cur: duckdb.DuckDBPyConnection, username: str, full_name: str, role: str, *,
             superiors: list[int] | None = None, now: datetime = NOW, password: str = PASSWORD,
             email: str | None = None, location: str = "Berlin") -> User:
    """A user through the admin service (argon2-hashed password, audit entry)."""
    return users.add_user(cur, now, username, full_name, email or f"{username}@autohaus.example",
                          role, password, location=location, superiors=superiors)


def add_team(cur: duckdb.DuckDBPyConnection, now: datetime = NOW) -> SimpleNamespace:
    """One user per role; sellers Anna and Ben report to supervisor Clara."""
    clara = add_user(cur, "clara", "Clara Vogt", "supervisor", now=now)
    return SimpleNamespace(
        clara=clara,
        anna=add_user(cur, "anna", "Anna Becker", "seller", superiors=[clara.id], now=now),
        ben=add_user(cur, "ben", "Ben Schulz", "seller", superiors=[clara.id], now=now),
        dirk=add_user(cur, "dirk", "Dirk Hahn", "manager", now=now),
        eva=add_user(cur, "eva", "Eva Lang", "analyst", now=now),
        frank=add_user(cur, "frank", "Frank Admin", "admin", now=now),
    )


# --- contacts and leads ----------------------------------------------------------------------

def make_contact(cur: duckdb.DuckDBPyConnection, now: datetime = NOW, **fields) -> contacts.Contact:
    """A contact through the service; no fields: Max Mustermann (MAX_MUSTERMANN)."""
    return contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(**(fields or MAX_MUSTERMANN)))


def source_ids(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Name -> id of every source (the shipped ones: migration 0002)."""
    return dict(cur.execute("SELECT name, id FROM sources").fetchall())


def reason_ids(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Code -> id of the completion reasons (sold, bought_elsewhere, ...)."""
    return dict(cur.execute("SELECT code, id FROM completion_reasons").fetchall())


def make_lead(cur: duckdb.DuckDBPyConnection, user: User, *, contact_id: int, now: datetime = NOW,
              editor: User | None = None, source: str = "mobile.de", lead_type: str = "new_car",
              subject: str = "Golf 8 GTI, test drive", note: str = "",
              resubmission_at: datetime | None = None) -> int:
    """A lead created by `user` at `now` through leads.create_lead, edited by `editor` or `user`."""
    return leads.create_lead(cur, user, now, leads.LeadInput(
        contact_id=contact_id, source_id=source_ids(cur)[source], lead_type=lead_type,
        subject=subject, editor_id=(editor or user).id, note=note, resubmission_at=resubmission_at))


def choose_editor(cur: duckdb.DuckDBPyConnection, now: datetime, source_id: int,
                  contact_id: int | None = None) -> distribution.Assignment | None:
    """Who would get one new intake lead, its turn stored: the Distributor as intake drives it
    (previous editor of the contact first), for one lead at a time."""
    distributor = distribution.Distributor(cur, now)
    previous = (distribution.previous_editors(cur, [contact_id]).get(contact_id)
                if contact_id is not None else None)
    assignment = distributor.choose(source_id, previous)
    distributor.save(cur)
    return assignment


# --- reading back ----------------------------------------------------------------------------

def count(cur: duckdb.DuckDBPyConnection, table: str, where: str = "TRUE",
          params: list | None = None) -> int:
    """Rows in a table, optionally with a condition: count(cur, 'lead_events', 'lead_id = ?', [1])."""
    return cur.execute(f"SELECT count(*) FROM {table} WHERE {where}", params or []).fetchall()[0][0]


def events(cur: duckdb.DuckDBPyConnection, lead_id: int) -> list[tuple]:
    """(kind, detail, user_id) of a lead's events, oldest first."""
    return cur.execute("SELECT kind, detail, user_id FROM lead_events WHERE lead_id = ? ORDER BY id",
                       [lead_id]).fetchall()


def lead_row(cur: duckdb.DuckDBPyConnection, lead_id: int) -> dict:
    """The lead's row of the leads table, column name -> value."""
    result = cur.execute("SELECT * FROM leads WHERE id = ?", [lead_id])
    names = [d[0] for d in result.description]
    return dict(zip(names, result.fetchall()[0]))


def absences_of(cur: duckdb.DuckDBPyConnection, user_id: int | None = None,
             from_day: date | None = None) -> list[Absence]:
    """Rows of the absences table (of one user, or all) ending on or after from_day, earliest first."""
    where, params = ["TRUE"], []
    if user_id is not None:
        where.append("user_id = ?")
        params.append(user_id)
    if from_day is not None:
        where.append("ends_on >= ?")
        params.append(from_day)
    return [Absence(*r) for r in cur.execute(
        "SELECT id, user_id, starts_on, ends_on, deputy_id, coalesce(note, '') FROM absences"
        f" WHERE {' AND '.join(where)} ORDER BY starts_on, id", params).fetchall()]
