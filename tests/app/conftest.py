"""Fixtures of the AppTest suite: the real app.py in Streamlit's headless test runner, on a fresh
DuckDB file per test, with a pinned clock and data seeded through the leadcore services.

Time is pinned (LEADCORE_NOW) to tests/factories.py's NOW, the same in every test layer: Friday
2026-11-27 10:00 Europe/Berlin. With the shipped settings a lead arriving then is due at 12:00
and reminded at 11:30 ("on time" now). The data fixtures are thin wrappers over tests/factories.py.

Two things about AppTest and this app that the fixtures take care of (see also RECIPES.md):

* One database connection. DuckDB lets a process hold a file through one database instance; the
  app caches its connection per path with st.cache_resource (`session.root_connection`). That
  cache is process-wide, so the tests seed and read the database through the very same
  connection object (`con`), each with its own cursor. (A second `db.connect(path)` with the
  same configuration would also work in-process, DuckDB shares the instance; a read-only one
  would not. Sharing the app's object is the simplest and matches production.)
* The `pages/` folder (a fixed part of the project's layout). AppTest resets
  `PagesManager.uses_pages_directory` to None before every run, and a PagesManager then sets it
  to True because `pages/` exists; in that state any run but the first executes the page script
  alone, "multipage v1"-style, without app.py, so every redirect after the first run is lost.
  A real server sets the flag once per process and st.navigation turns it off for good. The one
  shim below (`_navigation_only`) makes every AppTest run behave like the server, and `_goto`
  forgets a switch_page() target once used (AppTest would otherwise ask for it on every later
  run and undo the app's own page switches). Tests open pages through `open_app(page=...)` and
  `goto` only, so these two AppTest internals are touched in this file alone.

Test modules do not import from this file; every helper is a fixture.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Widget
from streamlit.testing.v1.element_tree import Error as ErrorAlert

from leadcore.auth import User
from leadcore.contacts import service as contacts
from leadcore.ui.session import root_connection
from tests import factories
from tests.factories import NOW, ON_POSTGRES, PASSWORD

APP_PATH = Path(__file__).resolve().parents[2] / "app.py"


class _NavigationOnlyPagesManager(PagesManager):
    """A PagesManager that never falls back to the `pages/` folder mode (see module doc)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(scope="session", autouse=True)
def _navigation_only():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(app_test_module, "PagesManager", _NavigationOnlyPagesManager)
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
def db_path(request, tmp_path, monkeypatch) -> Path | str:
    """This test's database: a DuckDB file, or on PostgreSQL a fresh database's URL."""
    if ON_POSTGRES:
        path = request.getfixturevalue("postgres_database")
        monkeypatch.setenv("LEADCORE_DATABASE_URL", path)
    else:
        path = tmp_path / "app.duckdb"
        monkeypatch.delenv("LEADCORE_DATABASE_URL", raising=False)
    monkeypatch.setenv("LEADCORE_DB", str(tmp_path / "app.duckdb"))
    monkeypatch.setenv("LEADCORE_NOW", factories.PINNED_NOW)
    monkeypatch.setenv("LEADCORE_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.delenv("LEADCORE_LANGUAGE", raising=False)
    # No scheduler thread and no sweep on page load: each test seeds exactly the rows it reads.
    monkeypatch.setenv("LEADCORE_SCHEDULER", "off")
    return path


@pytest.fixture
def con(db_path):
    """The app's own cached connection to this test's database file."""
    connection = root_connection(str(db_path))
    yield connection
    root_connection.clear()
    connection.close()


@pytest.fixture
def people(cur) -> SimpleNamespace:
    """One user per role; sellers Anna and Ben report to supervisor Clara (factories.add_team)."""
    return factories.add_team(cur)


@pytest.fixture
def by_role(people) -> dict[str, User]:
    return {"seller": people.anna, "supervisor": people.clara, "manager": people.dirk,
            "analyst": people.eva, "admin": people.frank}


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def contact(cur) -> contacts.Contact:
    return factories.make_contact(cur)


@pytest.fixture
def add_contact(cur) -> Callable[..., contacts.Contact]:
    return lambda **fields: factories.make_contact(cur, NOW, **fields)


@pytest.fixture
def source_ids(cur) -> dict[str, int]:
    return factories.source_ids(cur)


@pytest.fixture
def reason_ids(cur) -> dict[str, int]:
    """Code -> id of the shipped completion reasons (sold, bought_elsewhere, ...)."""
    return factories.reason_ids(cur)


@pytest.fixture
def make_lead(cur, contact) -> Callable[..., int]:
    """factories.make_lead on this test's cursor: by `user`, at `at` (default NOW), for
    `contact_id` (default the contact fixture); other keywords as factories.make_lead."""

    def make(user: User, *, at: datetime | None = None, contact_id: int | None = None, **fields) -> int:
        return factories.make_lead(cur, user, now=at or NOW,
                                   contact_id=contact_id if contact_id is not None else contact.id, **fields)

    return make


@pytest.fixture
def lead_row(cur) -> Callable[[int], dict]:
    return lambda lead_id: factories.lead_row(cur, lead_id)


# --- driving the app -------------------------------------------------------------------------

def _goto(at: AppTest, page: str) -> AppTest:
    """Open a page as the navigation would (raises for a page the user's navigation lacks).
    AppTest keeps a switch_page() target for every later run, which would undo the app's own
    st.switch_page on the next run: forget it once used (see module doc)."""
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


def _page_titles(at: AppTest) -> list[str]:
    """The titles the navigation menu shows, sorted. The menu is not an element of AppTest's tree
    and AppTest has no public reader for it, so this reads `_registered_pages` (what st.navigation
    registered in the last run; AppTest keeps it to resolve switch_page) — the suite's one use
    of an AppTest internal."""
    return sorted(info.get("page_name", "") for info in at._registered_pages.values())


@pytest.fixture
def ui() -> SimpleNamespace:
    """Small readers of the rendered page, shared by the test modules."""
    return SimpleNamespace(flat=_flat, texts=_texts, error_under=_error_under, button=_button,
                           table=_table, page_titles=_page_titles)


@pytest.fixture
def local() -> Callable[[str], datetime]:
    """A Berlin wall-clock time as typed: local('2026-11-26 09:00')."""
    return factories.berlin


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
