"""Fixtures every test layer shares, thin over tests/factories.py. Each layer's conftest gives
its own `con` (a fresh database file for unit tests, the app's cached connection for AppTest);
these build on it."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from tests import factories
from tests.factories import NOW


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
