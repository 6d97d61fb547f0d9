"""Absences (holidays, sick leave, training): date ranges in which a deputy works the user's leads.

Everyone enters their own; managers and admins enter anyone's. While an absence runs, the
deputy sees and works the absent user's leads (leadcore.visibility reads this table), and
distribution passes the absent user by.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from leadcore import audit, auth, db, hygiene
from leadcore.admin import settings
from leadcore.auth import Actor, get_user
from leadcore.errors import NotFound, PermissionDenied, ValidationError, ValidationErrors
from leadcore.i18n import _
from leadcore.roles import may_edit_settings

NOTE_LIMIT = 200
MAX_DAYS = 366


@dataclass(frozen=True)
class Absence:
    id: int
    user_id: int
    starts_on: date
    ends_on: date
    deputy_id: int | None
    note: str


_COLUMNS = "id, user_id, starts_on, ends_on, deputy_id, coalesce(note, '')"


def _require_may_manage(cur: duckdb.DuckDBPyConnection, actor: Actor, user_id: int) -> Actor:
    """The acting user as stored now, if they may manage `user_id`'s absences."""
    actor = auth.acting(cur, actor)
    if actor.id != user_id and not may_edit_settings(actor):
        raise PermissionDenied(_("You may only enter your own absences."))
    return actor


def _today(cur: duckdb.DuckDBPyConnection, now: datetime) -> date:
    return now.astimezone(settings.timezone(cur)).date()


def _overlapping(cur: duckdb.DuckDBPyConnection, user_id: int, starts_on: date, ends_on: date) -> list[Absence]:
    return [Absence(*r) for r in cur.execute(
        f"SELECT {_COLUMNS} FROM absences WHERE user_id = ? AND starts_on <= ? AND ends_on >= ?"
        " ORDER BY starts_on", [user_id, ends_on, starts_on]).fetchall()]


def _check(cur: duckdb.DuckDBPyConnection, now: datetime, user_id: int, starts_on: date | None,
           ends_on: date | None, deputy_id: int | None, note: str) -> None:
    errors: list[ValidationError] = []
    if starts_on is None:
        errors.append(ValidationError("starts_on", _("First day is required.")))
    elif not hygiene.check_year(errors, "starts_on", _("First day"), starts_on):
        starts_on = None
    if ends_on is None:
        errors.append(ValidationError("ends_on", _("Last day is required.")))
    elif not hygiene.check_year(errors, "ends_on", _("Last day"), ends_on):
        ends_on = None
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors.append(ValidationError("ends_on", _("The last day cannot be before the first day.")))
        elif (ends_on - starts_on).days >= MAX_DAYS:
            errors.append(ValidationError("ends_on", _("An absence can last at most {n} days; "
                                                       "enter a longer one in parts.").format(n=MAX_DAYS)))
        elif ends_on < _today(cur, now):
            errors.append(ValidationError("ends_on", _("The absence is over already; enter current "
                                                       "or future absences.")))
        else:
            for other in _overlapping(cur, user_id, starts_on, ends_on):
                errors.append(ValidationError("starts_on", _(
                    "This overlaps the absence from {first:%d.%m.%Y} to {last:%d.%m.%Y}; change or "
                    "remove that one first.").format(first=other.starts_on, last=other.ends_on)))
                break
    if deputy_id is not None and not hygiene.valid_id(deputy_id):
        errors.append(ValidationError("deputy", _("The deputy must be an active user who works leads.")))
    elif deputy_id is not None:
        deputy = cur.execute("SELECT active AND role <> 'analyst' FROM users WHERE id = ?",
                             [deputy_id]).fetchall()
        if deputy_id == user_id:
            errors.append(ValidationError("deputy", _("The deputy must be another user.")))
        elif not deputy or not deputy[0][0]:
            errors.append(ValidationError("deputy", _("The deputy must be an active user who works leads.")))
        elif starts_on and ends_on and ends_on >= starts_on and _overlapping(cur, deputy_id, starts_on, ends_on):
            errors.append(ValidationError("deputy", _("The deputy is absent during this time too; "
                                                      "choose another deputy.")))
    hygiene.check_text(errors, "note", _("Note"), note, limit=NOTE_LIMIT)
    if errors:
        raise ValidationErrors(errors)


def add_absence(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, user_id: int,
                starts_on: date | None, ends_on: date | None, deputy_id: int | None = None,
                note: str = "") -> Absence:
    """Record that `user_id` is away from starts_on to ends_on (both days included)."""
    def work(c: duckdb.DuckDBPyConnection) -> int:
        acting = _require_may_manage(c, actor, user_id)
        if not hygiene.valid_id(user_id):
            raise NotFound(_("This user does not exist."))
        get_user(c, user_id)
        # Checked inside the unit of work: an overlapping absence saved a moment ago counts.
        _check(c, now, user_id, starts_on, ends_on, deputy_id, note)
        clean = (note or "").strip()
        new_id = c.execute(
            "INSERT INTO absences (user_id, starts_on, ends_on, deputy_id, note) VALUES (?, ?, ?, ?, ?)"
            " RETURNING id", [user_id, starts_on, ends_on, deputy_id, clean or None]).fetchall()[0][0]
        audit.record(c, acting, now, "absences", new_id, "add", None,
                     Absence(new_id, user_id, starts_on, ends_on, deputy_id, clean))
        return new_id

    return get_absence(cur, db.write(cur, work))


def get_absence(cur: duckdb.DuckDBPyConnection, absence_id: int) -> Absence:
    rows = hygiene.valid_id(absence_id) and cur.execute(
        f"SELECT {_COLUMNS} FROM absences WHERE id = ?", [absence_id]).fetchall()
    if not rows:
        raise NotFound(_("This absence does not exist."))
    return Absence(*rows[0])


def remove_absence(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, absence_id: int) -> None:
    def work(c: duckdb.DuckDBPyConnection) -> None:
        absence = get_absence(c, absence_id)
        acting = _require_may_manage(c, actor, absence.user_id)
        c.execute("DELETE FROM absences WHERE id = ?", [absence_id])
        audit.record(c, acting, now, "absences", absence_id, "remove", absence, None)

    db.write(cur, work)


def absence_table(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime,
                  user_id: int | None = None) -> pd.DataFrame:
    """Current and future absences with the names of user and deputy, for the settings lists:
    one's own, or anyone's for those who manage absences."""
    acting = auth.acting(cur, actor)
    if user_id != acting.id and not may_edit_settings(acting):
        raise PermissionDenied(_("You may only see your own absences."))
    where, params = "a.ends_on >= $today", {"today": _today(cur, now)}
    if user_id is not None:
        where += " AND a.user_id = $user"
        params["user"] = user_id
    return cur.execute(
        f"""
        SELECT a.id, a.user_id, u.full_name AS user_name, a.starts_on, a.ends_on,
               coalesce(d.full_name, '') AS deputy, coalesce(a.note, '') AS note
        FROM absences a JOIN users u ON u.id = a.user_id LEFT JOIN users d ON d.id = a.deputy_id
        WHERE {where} ORDER BY a.starts_on, a.id
        """, params).df()
