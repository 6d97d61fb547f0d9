"""Lead sources (mobile.de, AutoScout24, website form, phone...) in their configured order,
and their administration: add, rename, reorder, (de)activate, channel, assigned users."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from leadcore import audit, auth, db, hygiene, roles
from leadcore.admin import ordering
from leadcore.auth import Actor
from leadcore.errors import NotFound, ValidationError, ValidationErrors
from leadcore.i18n import N_, _

CHANNELS = {
    "marketplace": N_("Marketplace"),
    "website": N_("Website"),
    "phone": N_("Phone"),
    "walk-in": N_("Walk-in"),
    "e-mail": N_("E-mail"),
    "other": N_("Other"),
}
NAME_LIMIT = 80


@dataclass(frozen=True)
class Source:
    id: int
    name: str
    channel: str
    active: bool
    position: int


def list_sources(cur: duckdb.DuckDBPyConnection, active_only: bool = True) -> list[Source]:
    rows = cur.execute(
        "SELECT id, name, channel, active, position FROM sources"
        + (" WHERE active" if active_only else "") + " ORDER BY position, name"
    ).fetchall()
    return [Source(*r) for r in rows]


def get_source(cur: duckdb.DuckDBPyConnection, source_id: int) -> Source:
    rows = hygiene.valid_id(source_id) and cur.execute(
        "SELECT id, name, channel, active, position FROM sources WHERE id = ?", [source_id]).fetchall()
    if not rows:
        raise NotFound(_("This source does not exist."))
    return Source(*rows[0])


def assigned_users(cur: duckdb.DuckDBPyConnection, source_id: int) -> list[int]:
    """Users who receive the source's new leads in turn (round robin), by id."""
    return [r[0] for r in cur.execute(
        "SELECT user_id FROM source_users WHERE source_id = ? ORDER BY user_id", [source_id]).fetchall()]


def lead_count(cur: duckdb.DuckDBPyConnection, source_id: int) -> int:
    return cur.execute("SELECT count(*) FROM leads WHERE source_id = ?", [source_id]).fetchall()[0][0]


def _taken(name: str) -> ValidationErrors:
    return ValidationErrors([ValidationError("name", _("A source named {name} exists already.").format(name=name))])


def _editor(cur: duckdb.DuckDBPyConnection, user: Actor) -> Actor:
    return auth.acting(cur, user, roles.EDIT_SETTINGS)


def _check_name(cur: duckdb.DuckDBPyConnection, errors: list, name: str, source_id: int | None) -> str:
    before = len(errors)
    name = hygiene.check_text(errors, "name", _("Name"), name, required=True, limit=NAME_LIMIT)
    if len(errors) > before:
        return name
    if cur.execute("SELECT 1 FROM sources WHERE lower(name) = lower(?) AND id <> ?",
                     [name, source_id or -1]).fetchall():
        errors.append(ValidationError("name", _("A source named {name} exists already.").format(name=name)))
    return name


def _check_channel(errors: list, channel: str) -> None:
    if channel not in CHANNELS:
        errors.append(ValidationError("channel", _("Channel must be one of the offered choices.")))


def _check_users(cur: duckdb.DuckDBPyConnection, errors: list, user_ids: list[int]) -> None:
    if not user_ids:
        return
    if not hygiene.valid_ids(user_ids):
        errors.append(ValidationError("users", _("Assigned users must be active users who work leads.")))
        return
    ok = {r[0] for r in cur.execute(
        "SELECT id FROM users WHERE id IN (SELECT unnest(?::BIGINT[])) AND active AND role <> 'analyst'",
        [list(user_ids)]).fetchall()}
    if set(user_ids) - ok:
        errors.append(ValidationError("users", _("Assigned users must be active users who work leads.")))


def add_source(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, name: str,
               channel: str, user_ids: list[int] | None = None) -> Source:
    """A new active source at the end of the list."""
    def work(c: duckdb.DuckDBPyConnection) -> int:
        acting = _editor(c, user)
        errors: list[ValidationError] = []
        clean = _check_name(c, errors, name, None)
        _check_channel(errors, channel)
        _check_users(c, errors, user_ids or [])
        hygiene.raise_if(errors)
        try:
            new_id = c.execute("INSERT INTO sources (name, channel, position) VALUES (?, ?, ?) RETURNING id",
                               [clean, channel, ordering.next_position(c, "sources")]).fetchall()[0][0]
        except db.IntegrityError:
            raise _taken(clean) from None   # names are unique without regard to case (0011)
        for user_id in sorted(set(user_ids or [])):
            c.execute("INSERT INTO source_users VALUES (?, ?)", [new_id, user_id])
        audit.record(c, acting, now, "sources", new_id, "add", None,
                     {"name": clean, "channel": channel, "users": sorted(set(user_ids or []))})
        return new_id

    return get_source(cur, db.write(cur, work))


def update_source(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, source_id: int, *,
                  name: str | None = None, channel: str | None = None, active: bool | None = None,
                  user_ids: list[int] | None = None) -> Source:
    """Rename, change channel, (de)activate or assign users; arguments left None stay as they are."""
    def work(c: duckdb.DuckDBPyConnection) -> Source:
        acting = _editor(c, user)
        source = get_source(c, source_id)
        errors: list[ValidationError] = []
        new_name = source.name if name is None else _check_name(c, errors, name, source_id)
        if channel is not None:
            _check_channel(errors, channel)
        if user_ids is not None:
            _check_users(c, errors, user_ids)
        if active is False and source.active:
            others = c.execute("SELECT count(*) FROM sources WHERE active AND id <> ?", [source_id]).fetchall()[0][0]
            if not others:
                errors.append(ValidationError("active", _(
                    "At least one source must stay active, or no lead could be created.")))
        hygiene.raise_if(errors)
        before = {"name": source.name, "channel": source.channel, "active": source.active,
                  "users": assigned_users(c, source_id)}
        after = {"name": new_name,
                 "channel": source.channel if channel is None else channel,
                 "active": source.active if active is None else bool(active),
                 "users": before["users"] if user_ids is None else sorted(set(user_ids))}
        if after == before:
            return source
        try:
            c.execute("UPDATE sources SET name = ?, channel = ?, active = ? WHERE id = ?",
                      [after["name"], after["channel"], after["active"], source_id])
        except db.IntegrityError:
            raise _taken(after["name"]) from None
        if after["users"] != before["users"]:
            c.execute("DELETE FROM source_users WHERE source_id = ?", [source_id])
            for user_id in after["users"]:
                c.execute("INSERT INTO source_users VALUES (?, ?)", [source_id, user_id])
        audit.record(c, acting, now, "sources", source_id, "update", before, after)
        return get_source(c, source_id)

    return db.write(cur, work)


def move_source(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, source_id: int,
                steps: int) -> list[int]:
    """Move a source up (-1) or down (+1) in the order of the source choice; returns the new order."""
    get_source(cur, source_id)
    return ordering.move_audited(cur, user, now, "sources", "sources", source_id, steps)


def delete_source(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, source_id: int) -> None:
    """Delete a source no lead uses; one with leads can only be deactivated."""
    def work(c: duckdb.DuckDBPyConnection) -> None:
        acting = _editor(c, user)
        source = get_source(c, source_id)
        used = lead_count(c, source_id)
        if used:
            raise ValidationErrors([ValidationError("source", _(
                "{name} is the source of {n} leads and cannot be deleted; deactivate it instead.").format(
                name=source.name, n=f"{used:,}"))])
        if source.active and not c.execute(
                "SELECT 1 FROM sources WHERE active AND id <> ?", [source_id]).fetchall():
            raise ValidationErrors([ValidationError("source", _(
                "At least one source must stay active, or no lead could be created."))])
        c.execute("DELETE FROM source_users WHERE source_id = ?", [source_id])
        c.execute("DELETE FROM source_escalation WHERE source_id = ?", [source_id])
        c.execute("DELETE FROM sources WHERE id = ?", [source_id])
        audit.record(c, acting, now, "sources", source_id, "remove", source, None)

    db.write(cur, work)
