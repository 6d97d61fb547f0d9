"""Which source an intake message belongs to, and the Settings that decide it: one table
(sender_sources) maps ADF provider names and sender addresses/domains to sources; the default
source takes unknown senders; the intake folder lies under a configured root.

The provider decides the source: a mapped provider name, else a source of that name, else a
new INACTIVE source created on first sight, which a manager confirms in Settings → Intake.
A mail without a provider goes by its sender address or domain, else to the default source
and is flagged for the desk.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from leadcore import audit, auth, db, hygiene, roles
from leadcore.admin import settings
from leadcore.auth import User
from leadcore.errors import ValidationError, ValidationErrors
from leadcore.i18n import _
from leadcore.intake.incoming import IncomingLead
from leadcore.roles import require_settings_editor

SOURCE_NAME_LIMIT = 100
_DOMAIN = re.compile(r"@?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}")
_ADDRESS = re.compile(r"[^@\s]+@([a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}")


@dataclass(frozen=True)
class Route:
    source_id: int | None        # None: no source can take it (no usable default)
    unknown_sender: bool
    provider: str = ""           # the provider that decided it
    new_source: bool = False     # created on first sight (inactive until a manager confirms it)


class Router:
    """The routing tables of one transaction, read once for a whole batch of messages.

    The provider decides: a provider name mapped in Settings, else a source of that name, else
    a new inactive source of that name (and its mapping) created on first sight for a manager
    to confirm. Without a provider the sender address or domain decides; else the default."""

    def __init__(self, cur: duckdb.DuckDBPyConnection):
        rows = cur.execute("SELECT id, name, active FROM sources").fetchall()
        self._active = {source_id for source_id, _name, active in rows if active}
        self._by_name = {name.strip().lower(): source_id for source_id, name, _active in rows}
        mapped = cur.execute("SELECT pattern, source_id, coalesce(kind, 'sender') FROM sender_sources").fetchall()
        self._patterns = {p: s for p, s, kind in mapped if kind == "sender"}
        self._providers = {p: s for p, s, kind in mapped if kind == "provider"}
        default = settings.get(cur, "intake_default_source_id")
        self.default_source_id = default if default in self._active else None
        self._created: dict[str, int] = {}

    def route(self, cur: duckdb.DuckDBPyConnection, incoming: IncomingLead) -> Route:
        for name in incoming.provider_names:
            key = name.strip().lower()[:SOURCE_NAME_LIMIT]
            if not key:
                continue
            source_id = self._providers.get(key) or self._by_name.get(key)
            if source_id is not None:
                return Route(source_id, False, name, key in self._created)
            self._created[key] = self._providers[key] = self._create_source(cur, name.strip()[:SOURCE_NAME_LIMIT])
            return Route(self._providers[key], False, name, True)
        for pattern in sender_patterns(incoming.sender):
            source_id = self._patterns.get(pattern)
            if source_id in self._active:
                return Route(source_id, False)
        return Route(self.default_source_id, True)

    def _create_source(self, cur: duckdb.DuckDBPyConnection, name: str) -> int:
        source_id = cur.execute(
            "INSERT INTO sources (name, channel, active, position)"
            " SELECT ?, 'marketplace', FALSE, coalesce(max(position), 0) + 1 FROM sources RETURNING id",
            [name]).fetchall()[0][0]
        cur.execute("INSERT INTO sender_sources (pattern, source_id, kind) VALUES (?, ?, 'provider')",
                    [name.lower(), source_id])
        self._by_name[name.lower()] = source_id
        return source_id


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
    if folder:
        problem = folder_problem(folder, database_file(cur))
        if problem:
            errors.append(ValidationError("folder", problem))
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


def intake_root() -> Path:
    """The only folder tree the intake folder may lie in: LEADCORE_INTAKE_ROOT, by default
    data/intake/ under the project. A folder setting must never reach the database's own
    folder or anywhere else on the server."""
    configured = os.environ.get("LEADCORE_INTAKE_ROOT", "").strip()
    return Path(configured).resolve() if configured else (Path(__file__).resolve().parents[2] / "data" / "intake")


def database_file(cur: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of the database `cur` works on (None in memory, or on PostgreSQL: no file here)."""
    if db.engine(cur) == "postgres":
        return None
    rows = cur.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(rows[0][0]).resolve() if rows and rows[0][0] else None


def folder_problem(folder: str, database: Path | None = None) -> str:
    """Why this folder cannot be the intake folder; "" when it can."""
    path = Path(folder).expanduser()
    root = intake_root()
    resolved = (root / path).resolve() if not path.is_absolute() else path.resolve()
    if resolved != root and root not in resolved.parents:
        return _("The intake folder must lie inside {root}.").format(root=root)
    database = database or db.database_path().resolve()
    if resolved == database.parent or resolved in database.parents:
        return _("The intake folder cannot be the database's folder.")
    if not resolved.is_dir():
        return _("The folder {folder} does not exist on the server.").format(folder=folder)
    return ""


@dataclass(frozen=True)
class SenderSource:
    pattern: str
    source_id: int
    source: str
    kind: str = "sender"         # sender (address / @domain) or provider (an ADF provider name)
    active: bool = True          # the source; an inactive one was created on first sight


def sender_sources(cur: duckdb.DuckDBPyConnection) -> list[SenderSource]:
    return [SenderSource(*r) for r in cur.execute(
        "SELECT m.pattern, m.source_id, s.name, coalesce(m.kind, 'sender'), s.active FROM sender_sources m"
        " JOIN sources s ON s.id = m.source_id ORDER BY coalesce(m.kind, 'sender'), ltrim(m.pattern, '@'), m.pattern"
    ).fetchall()]


def confirm_source(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, source_id: int) -> None:
    """A manager confirms a source intake created on first sight: it becomes active."""
    def work(c: duckdb.DuckDBPyConnection) -> None:
        auth.acting(c, user, roles.EDIT_SETTINGS)
        before = c.execute("SELECT name, active FROM sources WHERE id = ?", [source_id]).fetchall()
        if not before:
            raise ValidationErrors([ValidationError("source", _("This source no longer exists."))])
        c.execute("UPDATE sources SET active = TRUE WHERE id = ?", [source_id])
        audit.record(c, user, now, "source", str(source_id), "confirm", {"active": before[0][1]}, {"active": True})

    db.write(cur, work)


def clean_pattern(text: str, kind: str = "sender") -> str:
    """A sender address ("leads@mobile.de") or domain ("@mobile.de", "mobile.de"), lower case;
    or a provider name as ADF files write it ("Cars.com", "TrueCar"), lower case."""
    pattern = (text or "").strip().lower()
    if kind == "provider":
        if not pattern or len(pattern) > SOURCE_NAME_LIMIT:
            raise ValidationErrors([ValidationError("pattern", _(
                "Provider name is required (at most {n} characters).").format(n=SOURCE_NAME_LIMIT))])
        return " ".join(pattern.split())
    if _ADDRESS.fullmatch(pattern):
        return pattern
    if _DOMAIN.fullmatch(pattern):
        return "@" + pattern.lstrip("@")
    raise ValidationErrors([ValidationError("pattern", _(
        "Sender must be an e-mail address (leads@mobile.de) or a domain (@mobile.de)."))])


def add_sender_source(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, pattern: str,
                      source_id: int | None, kind: str = "sender") -> SenderSource:
    """Mails from this sender (address or domain), or ADF files of this provider, become leads
    of this source."""
    require_settings_editor(user)
    kind = "provider" if kind == "provider" else "sender"
    pattern = clean_pattern(pattern, kind)

    def work(c: duckdb.DuckDBPyConnection) -> list:
        auth.acting(c, user, roles.EDIT_SETTINGS)
        source = c.execute("SELECT name FROM sources WHERE id = ?",
                           [source_id if hygiene.valid_id(source_id) else -1]).fetchall()
        if not source:
            raise ValidationErrors([ValidationError("source", _("Choose the source of these mails."))])
        if c.execute("SELECT 1 FROM sender_sources WHERE pattern = ?", [pattern]).fetchall():
            raise ValidationErrors([ValidationError("pattern", _(
                "{pattern} is mapped already; remove it first to map it to another source.").format(pattern=pattern))])
        c.execute("INSERT INTO sender_sources (pattern, source_id, kind) VALUES (?, ?, ?)", [pattern, source_id, kind])
        audit.record(c, user, now, "intake", pattern, "add", None,
                     {"pattern": pattern, "source_id": source_id, "kind": kind})
        return source

    source = db.write(cur, work)
    return SenderSource(pattern, source_id, source[0][0], kind)


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
