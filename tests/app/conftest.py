"""Fixtures of the AppTest suite: the real app.py in Streamlit's headless test runner, on a fresh
DuckDB file per test, with a pinned clock and data seeded through the leadcore services.

Time is pinned to Wednesday 2026-11-25 10:00 Europe/Berlin (LEADCORE_NOW). With the shipped
settings a lead arriving then is due at 12:00 and reminded at 11:30 ("on time" now).

Two things about AppTest and this app that the fixtures take care of (see also RECIPES.md):

* One database connection. DuckDB lets a process hold a file through one database instance; the
  app caches its connection per path with st.cache_resource (`session._root_connection`). That
  cache is process-wide, so the tests seed and read the database through the very same
  connection object (`con`), each with its own cursor. (A second `db.connect(path)` with the
  same configuration would also work in-process, DuckDB shares the instance; a read-only one
  would not. Sharing the app's object is the simplest and matches production.)
* The `pages/` folder. AppTest resets `PagesManager.uses_pages_directory` to None before every
  run, and a PagesManager then sets it to True because `pages/` exists. In that state the run of
  any page but the first one executes the page script alone, "multipage v1"-style, without
  app.py: no sidebar, no `follow_redirect()`, so every redirect after the first run is lost.
  In a real server the flag is set once per process and st.navigation turns it off for good.
  `_navigation_app` makes every AppTest run behave like the server (st.navigation only).

Test modules do not import from this file; every helper is a fixture.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import streamlit.testing.v1.app_test as app_test_module
from argon2 import PasswordHasher
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Widget
from streamlit.testing.v1.element_tree import Error as ErrorAlert

from leadcore import auth
from leadcore.contacts import service as contacts
from leadcore.leads import service as leads
from leadcore.admin import sources
from leadcore.admin import users
from leadcore.ui.session import _root_connection
from leadcore.auth import User

APP_PATH = Path(__file__).resolve().parents[2] / "app.py"
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)   # a Wednesday, inside working hours
PASSWORD = "correct horse battery"


class _NavigationOnlyPagesManager(PagesManager):
    """A PagesManager that never falls back to the `pages/` folder mode (see module doc)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(scope="session", autouse=True)
def _navigation_app():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(app_test_module, "PagesManager", _NavigationOnlyPagesManager)
        yield


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """Same argon2, minimal cost: six users per test at production cost would take ~0.5 s."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        yield


@pytest.fixture(scope="session", autouse=True)
def _quiet_bare_mode_warnings():
    """Seeding calls the cached connection outside a script run: Streamlit warns each time."""
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")

    def not_bare_mode(record: logging.LogRecord) -> bool:
        return "missing ScriptRunContext" not in record.getMessage()

    logger.addFilter(not_bare_mode)
    yield
    logger.removeFilter(not_bare_mode)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def db_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "app.duckdb"
    monkeypatch.setenv("LEADCORE_DB", str(path))
    monkeypatch.setenv("LEADCORE_NOW", NOW.isoformat())
    monkeypatch.setenv("LEADCORE_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.delenv("LEADCORE_LANGUAGE", raising=False)
    # No scheduler thread and no sweep on page load: each test seeds exactly the rows it reads.
    monkeypatch.setenv("LEADCORE_SCHEDULER", "off")
    return path


@pytest.fixture
def con(db_path):
    """The app's own cached connection to this test's database file."""
    connection = _root_connection(str(db_path))
    yield connection
    _root_connection.clear()
    connection.close()


@pytest.fixture
def cur(con):
    cursor = con.cursor()
    yield cursor
    cursor.close()


def _add(cur, username: str, full_name: str, role: str, superiors: list[int] | None = None) -> User:
    return users.add_user(cur, NOW, username, full_name, f"{username}@autohaus.example", role,
                          PASSWORD, location="Berlin", superiors=superiors)


@pytest.fixture
def people(cur) -> SimpleNamespace:
    """One user per role; sellers Anna and Ben report to supervisor Clara."""
    clara = _add(cur, "clara", "Clara Vogt", "supervisor")
    return SimpleNamespace(
        clara=clara,
        anna=_add(cur, "anna", "Anna Becker", "seller", [clara.id]),
        ben=_add(cur, "ben", "Ben Schulz", "seller", [clara.id]),
        dirk=_add(cur, "dirk", "Dirk Hahn", "manager"),
        eva=_add(cur, "eva", "Eva Lang", "analyst"),
        frank=_add(cur, "frank", "Frank Admin", "admin"),
    )


@pytest.fixture
def by_role(people) -> dict[str, User]:
    return {"seller": people.anna, "supervisor": people.clara, "manager": people.dirk,
            "analyst": people.eva, "admin": people.frank}


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def contact(cur) -> contacts.Contact:
    return contacts.create_contact(cur, auth.SYSTEM, NOW, contacts.ContactInput(
        salutation="Herr", first_name="Max", last_name="Mustermann",
        email="max.mustermann@example.de", phone="0171 1234567",
        street="Hauptstraße 1", postal_code="10115", city="Berlin"))


@pytest.fixture
def add_contact(cur) -> Callable[..., contacts.Contact]:
    return lambda **fields: contacts.create_contact(cur, auth.SYSTEM, NOW, contacts.ContactInput(**fields))


@pytest.fixture
def source_ids(cur) -> dict[str, int]:
    return {s.name: s.id for s in sources.list_sources(cur, active_only=False)}


@pytest.fixture
def reason_ids(cur) -> dict[str, int]:
    """Code -> id of the shipped completion reasons (sold, bought_elsewhere, ...)."""
    return dict(cur.execute("SELECT code, id FROM completion_reasons").fetchall())


@pytest.fixture
def make_lead(cur, contact, source_ids) -> Callable[..., int]:
    """Create a lead through leads.create_lead (by `user`, edited by `editor` or `user`)."""

    def make(user: User, *, at: datetime | None = None, editor: User | None = None,
             contact_id: int | None = None, source: str = "mobile.de", lead_type: str = "new_car",
             subject: str = "Golf 8 GTI, test drive", note: str = "",
             resubmission_at: datetime | None = None) -> int:
        return leads.create_lead(cur, user, at or NOW, leads.LeadInput(
            contact_id=contact_id if contact_id is not None else contact.id,
            source_id=source_ids[source], lead_type=lead_type, subject=subject,
            editor_id=(editor or user).id, note=note, resubmission_at=resubmission_at))

    return make


@pytest.fixture
def count(cur) -> Callable[..., int]:
    """Rows in a table, optionally with a condition: count('lead_events', 'lead_id = ?', [1])."""

    def rows(table: str, where: str = "TRUE", params: list | None = None) -> int:
        return cur.execute(f"SELECT count(*) FROM {table} WHERE {where}", params or []).fetchall()[0][0]

    return rows


@pytest.fixture
def events(cur) -> Callable[[int], list[tuple]]:
    """(kind, detail, user_id) of a lead's events, oldest first."""
    return lambda lead_id: cur.execute(
        "SELECT kind, detail, user_id FROM lead_events WHERE lead_id = ? ORDER BY id", [lead_id]
    ).fetchall()


@pytest.fixture
def lead_row(cur) -> Callable[[int], dict]:
    def row(lead_id: int) -> dict:
        result = cur.execute("SELECT * FROM leads WHERE id = ?", [lead_id])
        names = [d[0] for d in result.description]
        return dict(zip(names, result.fetchall()[0]))

    return row


# --- driving the app -------------------------------------------------------------------------

def _goto(at: AppTest, page: str) -> AppTest:
    """Open a page as the navigation would. AppTest keeps a switch_page() target for every later
    run, which would undo the app's own st.switch_page on the next run: forget it once used."""
    at.switch_page(page).run()
    at._page_hash = ""
    return at


@pytest.fixture
def open_app(db_path, con) -> Callable[..., AppTest]:
    """Start app.py, signed in as `user` (None: the sign-in form), on `page`, with `query`."""

    def start(user: User | None = None, *, page: str | None = None,
              query: dict[str, str] | None = None) -> AppTest:
        at = AppTest.from_file(str(APP_PATH), default_timeout=30)
        if user is not None:
            at.session_state["user_id"] = user.id
        for name, value in (query or {}).items():
            at.query_params[name] = value
        at.run()
        if page is not None:
            _goto(at, page)
        return at

    return start


@pytest.fixture
def goto() -> Callable[[AppTest, str], AppTest]:
    return _goto


def _flat(at: AppTest) -> list:
    """Every element of the main area in document order (containers left out)."""
    return [node for node in at.main if not isinstance(node, Block)]


def _texts(node) -> list[str]:
    """Every visible string under a node (or an AppTest): headings, markdown, text, alerts..."""
    root = node.main if isinstance(node, AppTest) else node
    found = []
    for element in root:
        if isinstance(element, Block):
            continue
        for attribute in ("value", "label"):
            try:
                value = getattr(element, attribute)
            except Exception:  # noqa: BLE001 - not every element has both
                continue
            if isinstance(value, str):
                found.append(value)
    return found


def _error_under(at: AppTest, widget_key: str) -> str | None:
    """The error shown right under a widget: the first alert after it, before any other widget."""
    flat = _flat(at)
    index = next(i for i, e in enumerate(flat) if isinstance(e, Widget) and e.key == widget_key)
    for element in flat[index + 1:]:
        if isinstance(element, Widget):
            return None
        if isinstance(element, ErrorAlert):
            return element.value
    return None


def _button(at: AppTest, label: str, within=None):
    """The one button (form submit buttons included) with this label."""
    root = within if within is not None else at
    found = [b for b in root.button if b.label == label]
    assert len(found) == 1, f"{len(found)} buttons labelled {label!r}: {[b.label for b in root.button]}"
    return found[0]


def _table(at: AppTest):
    """The Leads list as the page passes it to st.dataframe (None when no table is shown)."""
    tables = [d for d in at.dataframe if (d.key or "").startswith("lead_table_")]
    assert len(tables) <= 1
    return tables[0].value if tables else None


@pytest.fixture
def ui() -> SimpleNamespace:
    """Small readers of the rendered page, shared by the test modules."""
    return SimpleNamespace(flat=_flat, texts=_texts, error_under=_error_under, button=_button,
                           table=_table)


@pytest.fixture
def local() -> Callable[[str], datetime]:
    """A Berlin wall-clock time as typed: local('2026-11-26 09:00')."""
    return lambda text: datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.fixture
def set_moment() -> Callable[..., None]:
    """Fill a date + time pair made by leadcore.ui.fields.date_time_inputs(key)."""

    def fill(at: AppTest, key: str, day: date | None, clock: time | None) -> None:
        if day is not None:
            at.date_input(key=f"{key}_date").set_value(day)
        if clock is not None:
            at.time_input(key=f"{key}_time").set_value(clock)

    return fill


@pytest.fixture
def tomorrow() -> date:
    return (NOW + timedelta(days=1)).date()
