"""Lead use cases: create, add a note, set a resubmission, change editor, complete, reopen.

Each is one unit of work (ARCHITECTURE "Data flow"): inside the function given to `db.write`
it re-reads the acting user and the lead, checks, changes the lead with a guarded update and
appends its lead_events row. On a write conflict db.write runs it again from the start, so
the second of two people completing a lead at once is told the lead is completed already
instead of completing it twice. Due, reminder and stage-2 times are derived here from
arrival, resubmission and settings (leadcore.rules.duetime) and kept on the row for the lists.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb

from leadcore import auth, db, hygiene, roles
from leadcore.admin import settings
from leadcore.auth import Actor
from leadcore.errors import Conflict, NotFound, PermissionDenied, ValidationError, ValidationErrors
from leadcore.i18n import N_, _
from leadcore.leads import vehicles
from leadcore.leads.visibility import check_lead
from leadcore.rules import duetime

LEAD_TYPES = {
    "new_car": N_("New car"),
    "used_car": N_("Used car"),
    "service": N_("Service"),
    "trade_in": N_("Trade-in"),
    "financing": N_("Financing"),
    "other": N_("Other"),
}
SUBJECT_LIMIT = 200
NOTE_LIMIT = 10_000


@dataclass(frozen=True)
class LeadInput:
    contact_id: int
    source_id: int
    lead_type: str
    subject: str
    editor_id: int
    note: str = ""
    resubmission_at: datetime | None = None
    vehicle: vehicles.Vehicle | None = None    # the vehicle of interest, when the seller knows it


def check_text(errors: list, subject: str | None, note: str | None) -> None:
    if subject is not None:
        hygiene.check_text(errors, "subject", _("Subject"), subject, required=True, limit=SUBJECT_LIMIT)
    if note is not None:
        hygiene.check_text(errors, "note", _("Note"), note, limit=NOTE_LIMIT, multiline=True)


def check_resubmission(errors: list, resubmission_at: datetime | None, now: datetime,
                        required: bool = False) -> None:
    if resubmission_at is None:
        if required:
            errors.append(ValidationError("resubmission", _("Resubmission is required.")))
    elif not isinstance(resubmission_at, datetime) or resubmission_at.tzinfo is None:
        errors.append(ValidationError("resubmission", _("Resubmission needs a time zone.")))
    elif not hygiene.check_year(errors, "resubmission", _("Resubmission"), resubmission_at):
        return
    elif resubmission_at <= now:
        errors.append(ValidationError("resubmission", _("Resubmission must be in the future.")))


def _check_editor(cur: duckdb.DuckDBPyConnection, errors: list, editor_id: int) -> None:
    ok = hygiene.valid_id(editor_id) and cur.execute(
        "SELECT 1 FROM users WHERE id = ? AND active AND role <> 'analyst'", [editor_id]
    ).fetchall()
    if not ok:
        errors.append(ValidationError("editor", _("Editor must be an active user.")))


_VEHICLE_TEXTS = {"make": N_("Make"), "model": N_("Model"), "vin": N_("VIN"),
                  "stock_number": N_("Stock number"), "price_currency": N_("Currency")}


def _check_vehicle(errors: list, vehicle: vehicles.Vehicle | None) -> None:
    if vehicle is None:
        return
    hygiene.check_decimal(errors, "price", _("Price"), vehicle.price, Decimal(0), vehicles.PRICE_LIMIT)
    if vehicle.year is not None:
        hygiene.check_int(errors, "year", _("Year"), vehicle.year, hygiene.FIRST_YEAR, hygiene.LAST_YEAR)
    for name, label in _VEHICLE_TEXTS.items():
        hygiene.check_plain(errors, name, _(label), getattr(vehicle, name))
    hygiene.check_plain(errors, "comments", _("Comments"), vehicle.comments, multiline=True)


def due_columns(cur: duckdb.DuckDBPyConnection, arrived_at: datetime,
                 resubmission_at: datetime | None, source_id: int) -> list[datetime]:
    # The lead's source may override the escalation times (settings.due_settings merges them).
    times = duetime.due_times(arrived_at, resubmission_at, settings.due_settings(cur, source_id))
    return [times.due_at, times.reminder_at, times.stage2_at]


def guarded(cur: duckdb.DuckDBPyConnection, sql: str, params, *, expected: int = 1) -> None:
    """Run an UPDATE whose WHERE holds the state the unit of work checked (`AND status = 'open'`);
    fewer rows than expected means someone changed the lead meanwhile."""
    changed = cur.execute(sql, params).fetchall()[0][0]
    if changed != expected:
        raise Conflict(_("Someone changed this lead at the same moment; look at it again."))


def move_due(cur: duckdb.DuckDBPyConnection, lead: LeadRow, now: datetime,
             resubmission_at: datetime | None, worked: bool) -> None:
    """Set the open lead's resubmission and re-derive its due times from it (a new due cycle).

    worked: the user acted on the lead (a note, a message), which stamps the first response.
    """
    stamp = ", first_response_at = coalesce(first_response_at, $now)" if worked else ""
    guarded(cur,
            "UPDATE leads SET resubmission_at = $resubmission, due_at = $due, reminder_at = $reminder,"
            f" stage2_at = $stage2, last_activity_at = $now{stamp} WHERE id = $lead AND status = 'open'",
            dict(zip(("due", "reminder", "stage2"),
                     due_columns(cur, lead.arrived_at, resubmission_at, lead.source_id)),
                 resubmission=resubmission_at, now=now, lead=lead.id))


def append_event(cur: duckdb.DuckDBPyConnection, lead_id: int, now: datetime, user: Actor | None,
                 kind: str, detail: str) -> None:
    """One lead_events row; the system actor (and None) is recorded as user NULL, "leadcore"."""
    cur.execute(
        "INSERT INTO lead_events (lead_id, happened_at, user_id, kind, detail) VALUES (?, ?, ?, ?, ?)",
        [lead_id, now, user.id if user else None, kind, detail],
    )


def writer(cur: duckdb.DuckDBPyConnection, user: Actor) -> Actor:
    """The acting user as stored now, allowed to work leads (call it inside the unit of work)."""
    return auth.acting(cur, user, roles.WORK_LEADS)


def _check_new_lead(c: duckdb.DuckDBPyConnection, now: datetime, data: LeadInput) -> None:
    errors: list[ValidationError] = []
    contact = hygiene.valid_id(data.contact_id) and c.execute(
        "SELECT 1 FROM contacts WHERE id = ? AND NOT deleted", [data.contact_id]).fetchall()
    if not contact:
        errors.append(ValidationError("contact", _("This contact was deleted meanwhile; "
                                                   "choose another contact.")))
    source = hygiene.valid_id(data.source_id) and c.execute(
        "SELECT active FROM sources WHERE id = ?", [data.source_id]).fetchall()
    if not source or not source[0][0]:
        errors.append(ValidationError("source", _("Source is not active; choose another source.")))
    if data.lead_type not in LEAD_TYPES:
        errors.append(ValidationError("lead_type", _("Lead type is not one of the known types.")))
    check_text(errors, data.subject, data.note)
    check_resubmission(errors, data.resubmission_at, now)
    _check_editor(c, errors, data.editor_id)
    _check_vehicle(errors, data.vehicle)
    hygiene.raise_if(errors)


def create_lead(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, data: LeadInput) -> int:
    """Create a lead for a contact; returns its id. Nothing is stored when any field is bad."""
    def work(c: duckdb.DuckDBPyConnection) -> int:
        acting = writer(c, user)
        _check_new_lead(c, now, data)
        # An invalid VIN is kept and flagged (vehicles.cleaned), never a reason to refuse the lead.
        vehicle = vehicles.columns(vehicles.cleaned(data.vehicle, now.date()) if data.vehicle else None)
        lead_id = c.execute(
            "INSERT INTO leads (contact_id, source_id, lead_type, subject, note, editor_id, created_by,"
            " status, arrived_at, resubmission_at, due_at, reminder_at, stage2_at, last_activity_at,"
            f" {', '.join(vehicle)})"
            f" VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, {', '.join('?' * len(vehicle))})"
            " RETURNING id",
            [data.contact_id, data.source_id, data.lead_type, data.subject.strip(),
             data.note.strip() or None, data.editor_id, acting.id, now, data.resubmission_at,
             *due_columns(c, now, data.resubmission_at, data.source_id), now, *vehicle.values()],
        ).fetchall()[0][0]
        append_event(c, lead_id, now, acting, "created", data.subject.strip())
        return lead_id

    return db.write(cur, work)


@dataclass(frozen=True)
class LeadRow:
    id: int
    status: str
    arrived_at: datetime
    editor_id: int
    first_response_at: datetime | None
    source_id: int


def lead_for_write(cur: duckdb.DuckDBPyConnection, user: Actor, lead_id: int, now: datetime) -> LeadRow:
    """The lead as this unit of work sees it, once the (re-read) user may change it."""
    user = writer(cur, user)
    if not hygiene.valid_id(lead_id):
        raise NotFound(_("This lead does not exist."))
    if not check_lead(cur, user, lead_id, now):
        exists = cur.execute("SELECT 1 FROM leads WHERE id = ?", [lead_id]).fetchall()
        if exists:
            raise PermissionDenied(_("You may not change this lead."))
        raise NotFound(_("This lead does not exist."))
    row = cur.execute(
        "SELECT id, status, arrived_at, editor_id, first_response_at, source_id FROM leads WHERE id = ?",
        [lead_id]).fetchall()[0]
    return LeadRow(*row)


def require_open(lead: LeadRow) -> None:
    if lead.status != "open":
        raise ValidationErrors([ValidationError("status", _("This lead is completed; reopen it first."))])


def add_note(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, lead_id: int,
             text: str, resubmission_at: datetime | None) -> None:
    """Working the lead: a note plus a new resubmission, which clears its escalation."""
    def work(c: duckdb.DuckDBPyConnection) -> None:
        lead = lead_for_write(c, user, lead_id, now)
        require_open(lead)
        errors: list[ValidationError] = []
        if isinstance(text, str) and not text.strip():
            errors.append(ValidationError("note", _("Note is required.")))
        check_text(errors, None, text)
        check_resubmission(errors, resubmission_at, now, required=True)
        hygiene.raise_if(errors)
        move_due(c, lead, now, resubmission_at, worked=True)
        append_event(c, lead_id, now, writer(c, user), "note", text.strip())

    db.write(cur, work)


# Set resubmission, change editor and complete work on one lead or, from the list, on many:
# `Steps` builds, inside the unit of work, a pair: `check` (may this lead take it?) and
# `apply` (the writes). `_act_on` runs them for every lead in one transaction.
Check = Callable[[LeadRow], None]
Apply = Callable[[duckdb.DuckDBPyConnection, LeadRow], None]
Steps = Callable[[duckdb.DuckDBPyConnection, Actor], tuple[Check, Apply]]


@dataclass(frozen=True)
class BulkResult:
    changed: tuple[int, ...]
    refused: dict[int, str]    # lead id -> why it was left alone


def _act_on(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, lead_ids: list[int],
            steps: Steps, strict: bool) -> BulkResult:
    """One unit of work: re-read the user, check every lead, apply to those that passed.

    strict (one lead): the first refusal is raised, and who may act is said before what is
    wrong with the input. Otherwise refusals are collected and named.
    """
    def work(c: duckdb.DuckDBPyConnection) -> BulkResult:
        acting = writer(c, user)
        if strict:
            lead_for_write(c, acting, lead_ids[0], now)
        check, apply = steps(c, acting)
        ready: list[LeadRow] = []
        refused: dict[int, str] = {}
        for lead_id in dict.fromkeys(lead_ids):
            try:
                lead = lead_for_write(c, acting, lead_id, now)
                check(lead)
            except (PermissionDenied, NotFound, ValidationErrors) as error:
                if strict:
                    raise
                refused[lead_id] = error.message
                continue
            ready.append(lead)
        for lead in ready:
            apply(c, lead)
        return BulkResult(tuple(lead.id for lead in ready), refused)

    return db.write(cur, work)


def _resubmission_steps(now: datetime, resubmission_at: datetime | None) -> Steps:
    def steps(c: duckdb.DuckDBPyConnection, user: Actor) -> tuple[Check, Apply]:
        errors: list[ValidationError] = []
        check_resubmission(errors, resubmission_at, now)
        hygiene.raise_if(errors)

        def apply(c: duckdb.DuckDBPyConnection, lead: LeadRow) -> None:
            move_due(c, lead, now, resubmission_at, worked=False)
            detail = (resubmission_at.isoformat() if resubmission_at
                      else _("cleared (due by arrival + stage 1)"))
            append_event(c, lead.id, now, user, "resubmission", detail)

        return require_open, apply

    return steps


def _editor_steps(now: datetime, editor_id: int) -> Steps:
    def steps(c: duckdb.DuckDBPyConnection, user: Actor) -> tuple[Check, Apply]:
        errors: list[ValidationError] = []
        _check_editor(c, errors, editor_id)
        hygiene.raise_if(errors)
        name = c.execute("SELECT full_name FROM users WHERE id = ?", [editor_id]).fetchall()[0][0]

        def check(lead: LeadRow) -> None:
            if lead.editor_id == editor_id:
                raise ValidationErrors([ValidationError("editor", _("This user is the editor already."))])

        def apply(c: duckdb.DuckDBPyConnection, lead: LeadRow) -> None:
            guarded(c, "UPDATE leads SET editor_id = ?, last_activity_at = ? WHERE id = ? AND editor_id = ?",
                    [editor_id, now, lead.id, lead.editor_id])
            append_event(c, lead.id, now, user, "editor", name)

        return check, apply

    return steps


def _completion_steps(now: datetime, reason_id: int | None, comment: str) -> Steps:
    def steps(c: duckdb.DuckDBPyConnection, user: Actor) -> tuple[Check, Apply]:
        errors: list[ValidationError] = []
        reason = hygiene.valid_id(reason_id) and c.execute(
            "SELECT label FROM completion_reasons WHERE id = ? AND NOT hidden", [reason_id]).fetchall()
        if not reason:
            errors.append(ValidationError("reason", _("Completion reason is required.")))
        check_text(errors, None, comment)
        hygiene.raise_if(errors)
        detail = reason[0][0] + (f": {comment.strip()}" if comment.strip() else "")

        def apply(c: duckdb.DuckDBPyConnection, lead: LeadRow) -> None:
            guarded(c, "UPDATE leads SET status = 'completed', completed_at = ?, completion_reason_id = ?,"
                       " first_response_at = coalesce(first_response_at, ?), last_activity_at = ?"
                       " WHERE id = ? AND status = 'open'", [now, reason_id, now, now, lead.id])
            append_event(c, lead.id, now, user, "completed", detail)

        return require_open, apply

    return steps


def set_resubmission(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, lead_id: int,
                     resubmission_at: datetime | None) -> None:
    """Move when the lead is due; an empty resubmission falls back to arrival + stage 1."""
    _act_on(cur, user, now, [lead_id], _resubmission_steps(now, resubmission_at), strict=True)


def change_editor(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, lead_id: int,
                  editor_id: int) -> None:
    """Hand the lead over to another active user."""
    _act_on(cur, user, now, [lead_id], _editor_steps(now, editor_id), strict=True)


def complete(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, lead_id: int,
             reason_id: int | None, comment: str = "") -> None:
    """Close the lead with a (mandatory, visible) completion reason."""
    _act_on(cur, user, now, [lead_id], _completion_steps(now, reason_id, comment), strict=True)


def bulk_set_resubmission(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime,
                          lead_ids: list[int], resubmission_at: datetime | None) -> BulkResult:
    return _act_on(cur, user, now, lead_ids, _resubmission_steps(now, resubmission_at), strict=False)


def bulk_change_editor(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime,
                       lead_ids: list[int], editor_id: int) -> BulkResult:
    return _act_on(cur, user, now, lead_ids, _editor_steps(now, editor_id), strict=False)


def bulk_complete(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, lead_ids: list[int],
                  reason_id: int | None, comment: str = "") -> BulkResult:
    return _act_on(cur, user, now, lead_ids, _completion_steps(now, reason_id, comment), strict=False)


def reopen(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, lead_id: int,
           resubmission_at: datetime | None) -> None:
    """Open a completed lead again; it needs a new resubmission to become due again."""
    def work(c: duckdb.DuckDBPyConnection) -> None:
        lead = lead_for_write(c, user, lead_id, now)
        errors: list[ValidationError] = []
        if lead.status == "open":
            errors.append(ValidationError("status", _("This lead is open already.")))
        check_resubmission(errors, resubmission_at, now, required=True)
        hygiene.raise_if(errors)
        guarded(c, "UPDATE leads SET status = 'open', completed_at = NULL, completion_reason_id = NULL"
                   " WHERE id = ? AND status = 'completed'", [lead_id])
        move_due(c, lead, now, resubmission_at, worked=False)
        append_event(c, lead_id, now, writer(c, user), "reopened", resubmission_at.isoformat())

    db.write(cur, work)
