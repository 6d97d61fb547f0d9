"""Which source an intake message belongs to, and the Settings that decide it: sender
addresses/domains of marketplaces, the default source for unknown senders, the intake folder.

Intake never creates a source: an ADF provider (or id source) names an existing active source
(case-insensitively), a mail's sender address or domain is looked up in sender_sources, and
everything else goes to the default source and is flagged for the desk.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from leadcore import audit, auth, db, hygiene, roles
from leadcore.admin import settings
from leadcore.errors import ValidationError, ValidationErrors
from leadcore.i18n import _
from leadcore.intake.incoming import IncomingLead
from leadcore.roles import require_settings_editor
from leadcore.auth import User

_DOMAIN = re.compile(r"@?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}")
_ADDRESS = re.compile(r"[^@\s]+@([a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}")


@dataclass(frozen=True)
class Route:
    source_id: int | None        # None: no source can take it (no usable default)
    unknown_sender: bool


class Router:
    """The routing tables of one transaction, read once for a whole batch of messages."""

    def __init__(self, cur: duckdb.DuckDBPyConnection):
        rows = cur.execute("SELECT id, name, active FROM sources").fetchall()
        self._active = {source_id for source_id, _name, active in rows if active}
        self._by_name = {name.strip().lower(): source_id for source_id, name, _active in rows}
        self._patterns = dict(cur.execute("SELECT pattern, source_id FROM sender_sources").fetchall())
        default = settings.get(cur, "intake_default_source_id")
        self.default_source_id = default if default in self._active else None

    def route(self, incoming: IncomingLead) -> Route:
        for name in incoming.provider_names:
            source_id = self._by_name.get(name.strip().lower())
            if source_id in self._active:
                return Route(source_id, False)
        for pattern in sender_patterns(incoming.sender):
            source_id = self._patterns.get(pattern)
            if source_id in self._active:
                return Route(source_id, False)
        return Route(self.default_source_id, True)


def sender_patterns(sender: str) -> list[str]:
    """What may stand for a sender, most specific first: the address, its domain, parent domains."""
    sender = (sender or "").strip().lower()
    if "@" not in sender:
        return []
    labels = sender.rpartition("@")[2].split(".")
    return [sender] + ["@" + ".".join(labels[i:]) for i in range(len(labels) - 1)]


# --- Settings ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IntakeSettings:
    default_source_id: int | None
    folder: str


def intake_settings(cur: duckdb.DuckDBPyConnection) -> IntakeSettings:
    return IntakeSettings(settings.get(cur, "intake_default_source_id"), settings.get(cur, "intake_folder", ""))


def update_intake_settings(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
                           default_source_id: int | None, folder: str) -> IntakeSettings:
    """The default source of unknown senders and the folder the server polls ("" for none)."""
    require_settings_editor(user)
    folder = (folder or "").strip()
    errors = []
    active = {r[0] for r in cur.execute("SELECT id FROM sources WHERE active").fetchall()}
    if default_source_id not in active:
        errors.append(ValidationError("default_source", _("Default source must be an active source.")))
    if folder and not Path(folder).is_dir():
        errors.append(ValidationError("folder", _("The folder {folder} does not exist on the server.")
                                      .format(folder=folder)))
    if errors:
        raise ValidationErrors(errors)
    before, after = intake_settings(cur), IntakeSettings(default_source_id, folder)

    def work(c: duckdb.DuckDBPyConnection) -> None:
        auth.acting(c, user, roles.EDIT_SETTINGS)   # as stored now: deactivation acts at once
        settings.put(c, "intake_default_source_id", default_source_id)
        settings.put(c, "intake_folder", folder)
        audit.record(c, user, now, "intake", "settings", "update", before, after)

    db.write(cur, work)
    return after


@dataclass(frozen=True)
class SenderSource:
    pattern: str
    source_id: int
    source: str


def sender_sources(cur: duckdb.DuckDBPyConnection) -> list[SenderSource]:
    return [SenderSource(*r) for r in cur.execute(
        "SELECT m.pattern, m.source_id, s.name FROM sender_sources m JOIN sources s ON s.id = m.source_id"
        " ORDER BY ltrim(m.pattern, '@'), m.pattern").fetchall()]


def clean_pattern(text: str) -> str:
    """A sender address ("leads@mobile.de") or domain ("@mobile.de", "mobile.de"), lower case."""
    pattern = (text or "").strip().lower()
    if _ADDRESS.fullmatch(pattern):
        return pattern
    if _DOMAIN.fullmatch(pattern):
        return "@" + pattern.lstrip("@")
    raise ValidationErrors([ValidationError("pattern", _(
        "Sender must be an e-mail address (leads@mobile.de) or a domain (@mobile.de)."))])


def add_sender_source(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, pattern: str,
                      source_id: int | None) -> SenderSource:
    """Mails from this sender (address or domain) become leads of this source."""
    require_settings_editor(user)
    pattern = clean_pattern(pattern)

    def work(c: duckdb.DuckDBPyConnection) -> list:
        auth.acting(c, user, roles.EDIT_SETTINGS)
        source = c.execute("SELECT name FROM sources WHERE id = ?",
                           [source_id if hygiene.valid_id(source_id) else -1]).fetchall()
        if not source:
            raise ValidationErrors([ValidationError("source", _("Choose the source of these mails."))])
        if c.execute("SELECT 1 FROM sender_sources WHERE pattern = ?", [pattern]).fetchall():
            raise ValidationErrors([ValidationError("pattern", _(
                "{pattern} is mapped already; remove it first to map it to another source.").format(pattern=pattern))])
        c.execute("INSERT INTO sender_sources (pattern, source_id) VALUES (?, ?)", [pattern, source_id])
        audit.record(c, user, now, "intake", pattern, "add", None, {"pattern": pattern, "source_id": source_id})
        return source

    source = db.write(cur, work)
    return SenderSource(pattern, source_id, source[0][0])


def remove_sender_source(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, pattern: str) -> None:
    require_settings_editor(user)

    def work(c: duckdb.DuckDBPyConnection) -> None:
        auth.acting(c, user, roles.EDIT_SETTINGS)
        rows = c.execute("SELECT source_id FROM sender_sources WHERE pattern = ?", [pattern]).fetchall()
        if not rows:
            return
        c.execute("DELETE FROM sender_sources WHERE pattern = ?", [pattern])
        audit.record(c, user, now, "intake", pattern, "remove", {"pattern": pattern, "source_id": rows[0][0]}, None)

    db.write(cur, work)
