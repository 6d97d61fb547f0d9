"""Dealership settings stored in the database (JSON values) and turned into rule inputs.

Also the Settings pages' services for them: basic settings (mailbox, names, distribution),
working hours per weekday and escalation times (global, and overridden per source). A change
to working hours or escalation times re-derives the due times of open leads in the same
transaction (leadcore.due_recompute), so lists and traffic lights follow at once.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from email_validator import EmailNotValidError, validate_email

from leadcore import audit, db
from leadcore.rules.duetime import DueSettings
from leadcore.errors import NotFound, ValidationError, ValidationErrors
from leadcore.i18n import N_, _
from leadcore.roles import require_settings_editor
from leadcore.admin.users import User

WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))
NAME_DISPLAYS = {"first_last": N_("First name Last name"), "last_first": N_("Last name, First name"),
                 "username": N_("Username")}
FROM_NAME_LIMIT = 100
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def get(cur: duckdb.DuckDBPyConnection, key: str, default: Any = None) -> Any:
    row = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()
    return json.loads(row[0][0]) if row else default


def put(cur: duckdb.DuckDBPyConnection, key: str, value: Any) -> None:
    cur.execute(
        "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", [key, json.dumps(value)]
    )


def timezone(cur: duckdb.DuckDBPyConnection) -> ZoneInfo:
    return ZoneInfo(get(cur, "timezone", "Europe/Berlin"))


def _window(pair: list[str] | None) -> tuple[time, time] | None:
    if not pair:
        return None
    return time.fromisoformat(pair[0]), time.fromisoformat(pair[1])


# --- escalation times ------------------------------------------------------------------------

@dataclass(frozen=True)
class EscalationTimes:
    """Minutes of SPEC section 4. In a source override, None means "as the global setting"."""
    stage1_minutes: int | None
    reminder_minutes: int | None
    stage2_minutes: int | None
    stage2_resubmission_minutes: int | None

    def merged_over(self, base: EscalationTimes) -> EscalationTimes:
        return EscalationTimes(*(getattr(self, f.name) if getattr(self, f.name) is not None
                                 else getattr(base, f.name) for f in fields(self)))


ESCALATION_KEYS = tuple(f.name for f in fields(EscalationTimes))
# Field labels (for messages and forms) and the longest sane value of each, in minutes.
ESCALATION_LABELS = {
    "stage1_minutes": N_("Stage 1 (working time)"),
    "reminder_minutes": N_("Seller reminder"),
    "stage2_minutes": N_("Stage 2"),
    "stage2_resubmission_minutes": N_("Stage 2 for resubmissions"),
}
ESCALATION_LIMITS = {
    "stage1_minutes": 14 * 24 * 60,
    "reminder_minutes": 24 * 60,
    "stage2_minutes": 14 * 24 * 60,
    "stage2_resubmission_minutes": 30 * 24 * 60,
}


def escalation_times(cur: duckdb.DuckDBPyConnection) -> EscalationTimes:
    """The global escalation times."""
    values = dict(cur.execute(
        "SELECT key, value FROM settings WHERE key IN (SELECT unnest(?::VARCHAR[]))",
        [list(ESCALATION_KEYS)]).fetchall())
    return EscalationTimes(*(int(json.loads(values[k])) for k in ESCALATION_KEYS))


def source_escalation(cur: duckdb.DuckDBPyConnection, source_id: int) -> EscalationTimes | None:
    """The override of one source as stored (None columns inherit), or None without override."""
    rows = cur.execute(f"SELECT {', '.join(ESCALATION_KEYS)} FROM source_escalation WHERE source_id = ?",
                       [source_id]).fetchall()
    return EscalationTimes(*rows[0]) if rows else None


def due_settings(cur: duckdb.DuckDBPyConnection, source_id: int | None = None) -> DueSettings:
    """The rule inputs of SPEC section 4 as they stand now: global, or as they apply to a source."""
    values = dict(cur.execute("SELECT key, value FROM settings").fetchall())
    times = EscalationTimes(*(int(json.loads(values[k])) for k in ESCALATION_KEYS))
    if source_id is not None:
        override = source_escalation(cur, source_id)
        if override is not None:
            times = override.merged_over(times)
    holidays = frozenset(day for (day,) in cur.execute("SELECT day FROM holidays").fetchall())
    return DueSettings(
        tz=ZoneInfo(json.loads(values["timezone"])),
        working_hours=tuple(_window(pair) for pair in json.loads(values["working_hours"])),
        holidays=holidays,
        stage1=timedelta(minutes=times.stage1_minutes),
        reminder=timedelta(minutes=times.reminder_minutes),
        stage2=timedelta(minutes=times.stage2_minutes),
        stage2_resubmission=timedelta(minutes=times.stage2_resubmission_minutes),
    )


def _check_escalation(times: EscalationTimes, effective: EscalationTimes) -> None:
    errors = []
    for key in ESCALATION_KEYS:
        value = getattr(times, key)
        if value is None:
            continue
        label = _(ESCALATION_LABELS[key])
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(ValidationError(key, _("{field} must be a whole number of minutes.")
                                          .format(field=label)))
        elif value <= 0:
            errors.append(ValidationError(key, _("{field} must be at least 1 minute.").format(field=label)))
        elif value > ESCALATION_LIMITS[key]:
            errors.append(ValidationError(key, _("{field} can be at most {n} minutes ({days} days).").format(
                field=label, n=f"{ESCALATION_LIMITS[key]:,}", days=ESCALATION_LIMITS[key] // 1440)))
    if not errors and effective.reminder_minutes >= effective.stage1_minutes:
        errors.append(ValidationError("reminder_minutes", _(
            "Seller reminder must be shorter than stage 1, or the lead would be due soon on arrival.")))
    if errors:
        raise ValidationErrors(errors)


def update_escalation_times(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
                            times: EscalationTimes) -> int:
    """Change the global escalation times; returns how many open leads got new due times."""
    from leadcore.leads.recompute import recompute_open_leads   # that module reads these settings

    require_settings_editor(user)
    if any(getattr(times, k) is None for k in ESCALATION_KEYS):
        raise ValidationErrors([ValidationError(k, _("{field} is required.").format(
            field=_(ESCALATION_LABELS[k]))) for k in ESCALATION_KEYS if getattr(times, k) is None])
    _check_escalation(times, times)
    before = escalation_times(cur)

    def work(c: duckdb.DuckDBPyConnection) -> int:
        for key in ESCALATION_KEYS:
            put(c, key, getattr(times, key))
        audit.record(c, user, now, "escalation", "global", "update", before, times)
        return recompute_open_leads(c)

    return db.write(cur, work)


def set_source_escalation(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, source_id: int,
                          times: EscalationTimes | None) -> int:
    """Override (or, with None or all-None times, stop overriding) the escalation times of a source."""
    from leadcore.leads.recompute import recompute_open_leads

    require_settings_editor(user)
    if not cur.execute("SELECT 1 FROM sources WHERE id = ?", [source_id]).fetchall():
        raise NotFound(_("This source does not exist."))
    if times is not None and all(getattr(times, k) is None for k in ESCALATION_KEYS):
        times = None
    if times is not None:
        _check_escalation(times, times.merged_over(escalation_times(cur)))
    before = source_escalation(cur, source_id)

    def work(c: duckdb.DuckDBPyConnection) -> int:
        c.execute("DELETE FROM source_escalation WHERE source_id = ?", [source_id])
        if times is not None:
            c.execute(f"INSERT INTO source_escalation (source_id, {', '.join(ESCALATION_KEYS)})"
                      " VALUES (?, ?, ?, ?, ?)", [source_id, *(getattr(times, k) for k in ESCALATION_KEYS)])
        audit.record(c, user, now, "escalation", source_id, "update" if times else "remove", before, times)
        return recompute_open_leads(c, source_id)

    return db.write(cur, work)


# --- working hours ---------------------------------------------------------------------------

Hours = tuple[str, str] | None   # ("08:00", "18:00") or None for a closed day


def working_hours(cur: duckdb.DuckDBPyConnection) -> list[Hours]:
    """Seven entries, Monday first: ("HH:MM", "HH:MM") or None when closed."""
    return [tuple(pair) if pair else None for pair in get(cur, "working_hours")]


def _hhmm(value: str | time) -> str | None:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    value = (value or "").strip()
    return value if _HHMM.fullmatch(value) else None


def _check_hours(hours: list[tuple[str | time, str | time] | None]) -> list[Hours]:
    if len(hours) != 7:
        raise ValidationErrors([ValidationError("working_hours", _(
            "Working hours need one entry for each day from Monday to Sunday."))])
    errors, clean = [], []
    for day, pair in enumerate(hours):
        if pair is None:
            clean.append(None)
            continue
        field, name = f"day_{day}", _(WEEKDAYS[day])
        opening, closing = _hhmm(pair[0]), _hhmm(pair[1])
        if opening is None or closing is None:
            errors.append(ValidationError(field, _("{day}: opening and closing times look like 08:00.")
                                          .format(day=name)))
        elif opening >= closing:
            errors.append(ValidationError(field, _("{day}: the opening time must be before the closing time.")
                                          .format(day=name)))
        clean.append((opening, closing))
    if not errors and all(pair is None for pair in clean):
        errors.append(ValidationError("working_hours", _(
            "At least one weekday must have working hours; several days may be closed, but not all.")))
    if errors:
        raise ValidationErrors(errors)
    return clean


def update_working_hours(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
                         hours: list[tuple[str | time, str | time] | None]) -> int:
    """Set the working hours of each weekday (None: closed); returns the open leads re-derived."""
    from leadcore.leads.recompute import recompute_open_leads

    require_settings_editor(user)
    clean = _check_hours(list(hours))
    before = working_hours(cur)

    def work(c: duckdb.DuckDBPyConnection) -> int:
        put(c, "working_hours", [list(pair) if pair else None for pair in clean])
        audit.record(c, user, now, "working_hours", "working_hours", "update", before, clean)
        return recompute_open_leads(c)

    return db.write(cur, work)


# --- basic settings ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BasicSettings:
    mailbox_address: str = ""          # where leads arrive by e-mail
    forwarding_target: str = ""        # where that mailbox forwards to; may change any time
    email_from_name: str = "Autohaus"  # the sender name of outgoing mail
    user_name_display: str = "first_last"
    distribute_to_previous_editor: bool = True


BASIC_LABELS = {
    "mailbox_address": N_("Lead mailbox address"),
    "forwarding_target": N_("Forwarding target"),
    "email_from_name": N_("E-mail from name"),
    "user_name_display": N_("Show user names as"),
    "distribute_to_previous_editor": N_("New leads of a contact go to its previous editor"),
}


def basic_settings(cur: duckdb.DuckDBPyConnection) -> BasicSettings:
    defaults = BasicSettings()
    return BasicSettings(**{f.name: get(cur, f.name, getattr(defaults, f.name)) for f in fields(defaults)})


def _check_basic(new: BasicSettings) -> BasicSettings:
    errors, clean = [], {}
    for key in ("mailbox_address", "forwarding_target"):
        value = (getattr(new, key) or "").strip()
        if value:
            try:
                value = validate_email(value, check_deliverability=False).normalized
            except EmailNotValidError:
                errors.append(ValidationError(key, _("{field} is not a valid e-mail address.")
                                              .format(field=_(BASIC_LABELS[key]))))
        clean[key] = value
    name = (new.email_from_name or "").strip()
    if not name:
        errors.append(ValidationError("email_from_name", _("E-mail from name is required.")))
    elif len(name) > FROM_NAME_LIMIT:
        errors.append(ValidationError("email_from_name", _("E-mail from name can have at most {n} characters.")
                                      .format(n=FROM_NAME_LIMIT)))
    elif any(ch in name for ch in "\r\n<>\"@"):
        # It goes into a mail header: no line breaks, no address syntax.
        errors.append(ValidationError("email_from_name", _(
            "E-mail from name cannot contain line breaks, quotes, @ or angle brackets.")))
    clean["email_from_name"] = name
    if new.user_name_display not in NAME_DISPLAYS:
        errors.append(ValidationError("user_name_display", _("Show user names as must be one of the offered choices.")))
    if not isinstance(new.distribute_to_previous_editor, bool):
        errors.append(ValidationError("distribute_to_previous_editor", _("Choose yes or no for the distribution.")))
    if errors:
        raise ValidationErrors(errors)
    return replace(new, **clean)


def update_basic_settings(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
                          new: BasicSettings) -> BasicSettings:
    require_settings_editor(user)
    clean = _check_basic(new)
    before = basic_settings(cur)

    def work(c: duckdb.DuckDBPyConnection) -> None:
        for f in fields(clean):
            put(c, f.name, getattr(clean, f.name))
        audit.record(c, user, now, "basic_settings", "basic", "update", before, clean)

    db.write(cur, work)
    return clean
