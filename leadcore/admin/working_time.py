"""Working hours and escalation times (Settings): checked, stored, audited, and followed at once
by every open lead's due times (re-derived in the same transaction by leads.recompute)."""
from __future__ import annotations

from datetime import datetime, time

import duckdb

from leadcore import audit, auth, db, roles
from leadcore.admin import settings
from leadcore.admin.settings import (
    ESCALATION_KEYS,
    ESCALATION_LABELS,
    ESCALATION_LIMITS,
    HHMM,
    WEEKDAYS,
    EscalationTimes,
    Hours,
    escalation_times,
    put,
    source_escalation,
    working_hours,
)
from leadcore.auth import User
from leadcore.errors import NotFound, ValidationError, ValidationErrors
from leadcore.i18n import N_, _
from leadcore.leads import recompute
from leadcore.rules import duetime


def require_room(c: duckdb.DuckDBPyConnection, now: datetime, field: str, problem: str,
                 source_id: int | None = None) -> int:
    """Re-derive the open leads' due times (of one source, or all) under the settings this unit
    of work just wrote, and refuse (ValidationError on `field`) when stage 1 no longer fits into
    the working time of duetime.MAX_SCAN_DAYS: no due time could be computed then. `problem` is
    the sentence, with {stage1} (h:mm) and {days}. Returns how many open leads changed."""
    overrides = [r[0] for r in c.execute("SELECT source_id FROM source_escalation ORDER BY source_id").fetchall()]
    refusals = []
    for rules in [settings.due_settings(c, s) for s in [None, *overrides]]:
        hours, minutes = divmod(int(rules.stage1.total_seconds()) // 60, 60)
        refusals.append(ValidationErrors([ValidationError(field, problem.format(
            stage1=f"{hours}:{minutes:02d}", days=duetime.MAX_SCAN_DAYS))]))
        day = now.date()
        weekly = sum((datetime.combine(day, w[1]) - datetime.combine(day, w[0])).total_seconds()
                     for w in rules.working_hours if w)
        # Holidays aside, the least working time the scan window holds must take stage 1.
        if weekly * ((duetime.MAX_SCAN_DAYS - 7) // 7) < rules.stage1.total_seconds():
            raise refusals[-1]
        try:
            duetime.add_working_time(now, rules.stage1, rules)
        except ValueError:
            raise refusals[-1] from None
    try:
        return recompute.recompute_open_leads(c, source_id)
    except ValueError:   # an older lead's arrival leaves too little room (holidays around it)
        raise refusals[0] from None


ROOM_PROBLEM = {
    "working_hours": N_("These working hours leave too little working time: stage 1 ({stage1} working "
                        "hours) would not pass within {days} days. Open on more days or for longer, "
                        "or shorten stage 1."),
    "stage1_minutes": N_("Stage 1 ({stage1} working hours) would not pass within {days} days with "
                         "these working hours and holidays; shorten it or widen the working hours."),
}


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
    roles.require(user, roles.EDIT_SETTINGS)   # who may act is said before what is wrong with the input
    if any(getattr(times, k) is None for k in ESCALATION_KEYS):
        raise ValidationErrors([ValidationError(k, _("{field} is required.").format(
            field=_(ESCALATION_LABELS[k]))) for k in ESCALATION_KEYS if getattr(times, k) is None])
    _check_escalation(times, times)

    def work(c: duckdb.DuckDBPyConnection) -> int:
        acting = auth.acting(c, user, roles.EDIT_SETTINGS)
        before = escalation_times(c)
        for key in ESCALATION_KEYS:
            put(c, key, getattr(times, key))
        audit.record(c, acting, now, "escalation", "global", "update", before, times)
        return require_room(c, now, "stage1_minutes", _(ROOM_PROBLEM["stage1_minutes"]))

    return db.write(cur, work)


def set_source_escalation(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, source_id: int,
                          times: EscalationTimes | None) -> int:
    """Override (or, with None or all-None times, stop overriding) the escalation times of a source."""
    roles.require(user, roles.EDIT_SETTINGS)
    if times is not None and all(getattr(times, k) is None for k in ESCALATION_KEYS):
        times = None

    def work(c: duckdb.DuckDBPyConnection) -> int:
        acting = auth.acting(c, user, roles.EDIT_SETTINGS)
        if not (isinstance(source_id, int) and 0 < source_id < 2**63) or not c.execute(
                "SELECT 1 FROM sources WHERE id = ?", [source_id]).fetchall():
            raise NotFound(_("This source does not exist."))
        if times is not None:
            _check_escalation(times, times.merged_over(escalation_times(c)))
        before = source_escalation(c, source_id)
        c.execute("DELETE FROM source_escalation WHERE source_id = ?", [source_id])
        if times is not None:
            c.execute(f"INSERT INTO source_escalation (source_id, {', '.join(ESCALATION_KEYS)})"
                      " VALUES (?, ?, ?, ?, ?)", [source_id, *(getattr(times, k) for k in ESCALATION_KEYS)])
        audit.record(c, acting, now, "escalation", source_id, "update" if times else "remove", before, times)
        return require_room(c, now, "stage1_minutes", _(ROOM_PROBLEM["stage1_minutes"]), source_id)

    return db.write(cur, work)


def _hhmm(value: str | time) -> str | None:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    value = (value or "").strip()
    return value if HHMM.fullmatch(value) else None


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
    roles.require(user, roles.EDIT_SETTINGS)
    clean = _check_hours(list(hours))

    def work(c: duckdb.DuckDBPyConnection) -> int:
        acting = auth.acting(c, user, roles.EDIT_SETTINGS)
        before = working_hours(c)
        put(c, "working_hours", [list(pair) if pair else None for pair in clean])
        audit.record(c, acting, now, "working_hours", "working_hours", "update", before, clean)
        return require_room(c, now, "working_hours", _(ROOM_PROBLEM["working_hours"]))

    return db.write(cur, work)


