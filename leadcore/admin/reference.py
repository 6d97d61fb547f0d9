"""The reference data every page run reads (the settings, the users, the sources), kept in the
process and read again only when it changed.

A page run used to read the same few rows a dozen times (the signed-in user, the language, the
time zone, how names are shown, every user's name twice, the sources). Now it asks one question,
the tables' fingerprint (a hash of their contents), and reads the rows only when that is new.
The fingerprint sees every change whoever made it: another session, a settings tab, the
command line, another server on a shared database; a setting saved in one session shows on the
next run of every other one.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from leadcore import auth
from leadcore.admin import settings, sources, users
from leadcore.admin.settings import BasicSettings
from leadcore.admin.sources import Source
from leadcore.auth import User

# One hash per table over its rows as text. The rows' order is the engine's: another order only
# makes a needless re-read, never a missed change.
FINGERPRINT_SQL = """
    SELECT (SELECT md5(coalesce(string_agg(s::VARCHAR, ';'), '')) FROM settings s)
           || (SELECT md5(coalesce(string_agg(u::VARCHAR, ';'), '')) FROM users u)
           || (SELECT md5(coalesce(string_agg(s::VARCHAR, ';'), '')) FROM sources s)
"""
KEEP = 8       # fingerprints kept: a few databases per process (tests), a few versions each


@dataclass(frozen=True)
class Reference:
    version: str                     # the fingerprint it was read under
    settings: dict[str, Any]         # every stored setting, by key
    users: tuple[User, ...]          # every user, by full name
    sources: tuple[Source, ...]      # every source, active or not, in the configured order

    def user(self, user_id: int) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)

    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.get("timezone", settings.DEFAULT_TIMEZONE))

    def basic(self) -> BasicSettings:
        return settings.basic_from(self.settings)

    def dealership_language(self) -> str:
        return settings.language_from(self.settings.get("language"))

    def user_names(self, active_only: bool = False, editors_only: bool = False) -> dict[int, str]:
        """Names as the basic setting "Show user names as" wants them; editors_only: the users a
        lead may be given to (active, not analysts), as users.possible_editors."""
        shown = self.basic().user_name_display
        people = [u for u in self.users if (u.active and u.role != "analyst") or not editors_only]
        return {u.id: auth.display_name(u, shown) for u in people if u.active or not active_only}

    def source_names(self) -> dict[int, str]:
        return {s.id: s.name for s in self.sources}


_kept: dict[str, Reference] = {}
_lock = threading.Lock()


def fingerprint(cur: duckdb.DuckDBPyConnection) -> str:
    return cur.execute(FINGERPRINT_SQL).fetchall()[0][0]


def current(cur: duckdb.DuckDBPyConnection) -> Reference:
    """The reference data as stored now: one fingerprint query, the rows only when they changed."""
    version = fingerprint(cur)
    with _lock:
        kept = _kept.get(version)
    if kept is not None:
        return kept
    fresh = Reference(version, settings.get_all(cur), tuple(users.all_users(cur)),
                      tuple(sources.list_sources(cur, active_only=False)))
    # Kept only when nothing changed while reading: the rows then belong to that fingerprint.
    if fingerprint(cur) == version:
        with _lock:
            if len(_kept) >= KEEP:
                _kept.pop(next(iter(_kept)))
            _kept[version] = fresh
    return fresh
