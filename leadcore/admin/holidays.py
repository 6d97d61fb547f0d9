"""Holidays and company closures: days without working time, escalations or notifications.

Stored one row per day in `holidays(day, name)`; a range is entered at once. Public holidays
of a German state come from the `holidays` package. Every change re-derives the due times of
open leads in the same transaction (leadcore.leads.recompute).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import holidays as public_holidays

from leadcore import audit, auth, db, hygiene, i18n, roles
from leadcore.admin.working_time import require_room
from leadcore.auth import User
from leadcore.errors import ValidationError, ValidationErrors
from leadcore.i18n import N_, _
from leadcore.roles import require_settings_editor

GERMAN_STATES = {
    "BW": "Baden-Württemberg", "BY": "Bayern", "BE": "Berlin", "BB": "Brandenburg", "HB": "Bremen",
    "HH": "Hamburg", "HE": "Hessen", "MV": "Mecklenburg-Vorpommern", "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen", "RP": "Rheinland-Pfalz", "SL": "Saarland", "SN": "Sachsen",
    "ST": "Sachsen-Anhalt", "SH": "Schleswig-Holstein", "TH": "Thüringen",
}
NAME_LIMIT = 100
MAX_RANGE_DAYS = 366
YEARS = range(2000, 2101)
ROOM_PROBLEM = N_("With these closures too little working time is left: stage 1 ({stage1} working "
                  "hours) would not pass within {days} days. Close fewer days.")


@dataclass(frozen=True)
class Closure:
    day: date
    name: str


@dataclass(frozen=True)
class Added:
    added: tuple[date, ...]     # days now listed
    skipped: tuple[date, ...]   # days that were listed already (their name is kept)


def list_closures(cur: duckdb.DuckDBPyConnection, year: int | None = None) -> list[Closure]:
    where, params = ("WHERE year(day) = ?", [year]) if year else ("", [])
    return [Closure(*r) for r in cur.execute(
        f"SELECT day, name FROM holidays {where} ORDER BY day", params).fetchall()]


def _listed(cur: duckdb.DuckDBPyConnection, days: list[date]) -> set[date]:
    return {r[0] for r in cur.execute(
        "SELECT day FROM holidays WHERE day IN (SELECT unnest(?::DATE[]))", [days]).fetchall()}


def _insert(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, action: str,
            entries: list[Closure], detail: dict) -> Added:
    """Insert the days not listed yet, audit, re-derive due times; all in one unit of work."""
    def work(c: duckdb.DuckDBPyConnection) -> Added:
        acting = auth.acting(c, user, roles.EDIT_SETTINGS)
        listed = _listed(c, [e.day for e in entries])
        new = [e for e in entries if e.day not in listed]
        for entry in new:
            c.execute("INSERT INTO holidays (day, name) VALUES (?, ?)", [entry.day, entry.name])
        if new:
            audit.record(c, acting, now, "holidays", new[0].day, action, None,
                         {**detail, "days": [e.day for e in new]})
            require_room(c, now, "first_day", _(ROOM_PROBLEM))
        return Added(tuple(e.day for e in new), tuple(sorted(listed)))

    return db.write(cur, work)


def add_closure(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, name: str,
                first_day: date | None, last_day: date | None = None) -> Added:
    """A holiday or company closure on one day, or on every day from first_day to last_day."""
    require_settings_editor(user)
    errors: list[ValidationError] = []
    name = hygiene.check_text(errors, "name", _("Name"), name, required=True, limit=NAME_LIMIT)
    last_day = last_day or first_day
    if first_day is None:
        errors.append(ValidationError("first_day", _("Date is required.")))
    elif not hygiene.check_year(errors, "first_day", _("Date"), first_day) or \
            not hygiene.check_year(errors, "last_day", _("Last day"), last_day):
        pass
    elif last_day < first_day:
        errors.append(ValidationError("last_day", _("The last day cannot be before the first day.")))
    elif (last_day - first_day).days >= MAX_RANGE_DAYS:
        errors.append(ValidationError("last_day", _("A closure can last at most {n} days.").format(
            n=MAX_RANGE_DAYS)))
    if errors:
        raise ValidationErrors(errors)
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    result = _insert(cur, user, now, "add", [Closure(d, name) for d in days], {"name": name})
    if not result.added:
        raise ValidationErrors([ValidationError("first_day", _("Every day of this range is listed already.")
                                                if len(days) > 1 else _("This day is listed already."))])
    return result


def remove_closures(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, days: list[date]) -> int:
    """Remove listed days (they become normal working days again); returns how many."""
    require_settings_editor(user)
    if not days:
        raise ValidationErrors([ValidationError("days", _("Choose the days to remove."))])
    def work(c: duckdb.DuckDBPyConnection) -> int:
        acting = auth.acting(c, user, roles.EDIT_SETTINGS)
        before = [e for e in list_closures(c) if e.day in set(days)]
        c.execute("DELETE FROM holidays WHERE day IN (SELECT unnest(?::DATE[]))", [list(days)])
        if before:
            audit.record(c, acting, now, "holidays", before[0].day, "remove", before, None)
            require_room(c, now, "days", _(ROOM_PROBLEM))
        return len(before)

    return db.write(cur, work)


def public_holidays_of(state_code: str, year: int) -> list[Closure]:
    """The public holidays of a German state in a year, named in the UI language."""
    language = "de" if i18n.language().startswith("de") else "en_US"
    found = public_holidays.country_holidays("DE", subdiv=state_code, years=year, language=language)
    return [Closure(day, name) for day, name in sorted(found.items())]


def fill_public_holidays(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
                         state_code: str, year: int) -> Added:
    """Add the state's public holidays of the year; days listed already are left as they are."""
    require_settings_editor(user)
    errors = []
    if state_code not in GERMAN_STATES:
        errors.append(ValidationError("state", _("State must be one of the 16 German states.")))
    if not isinstance(year, int) or year not in YEARS:
        errors.append(ValidationError("year", _("Year must be between {first} and {last}.").format(
            first=YEARS[0], last=YEARS[-1])))
    if errors:
        raise ValidationErrors(errors)
    return _insert(cur, user, now, "fill", public_holidays_of(state_code, year),
                   {"state": state_code, "year": year})
