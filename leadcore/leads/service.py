"""Lead use cases: create, add a note, set a resubmission, change editor, complete, reopen.

Each is one function: check the user may do it, validate, then one transaction that changes
the lead and appends its lead_events row. Due, reminder and stage-2 times are derived here
from arrival, resubmission and settings (leadcore.duetime) and kept on the row for the lists.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb

from leadcore import db
from leadcore.rules import duetime
from leadcore.admin import settings
from leadcore.leads import vehicles
from leadcore.errors import NotFound, PermissionDenied, ValidationError, ValidationErrors
from leadcore.i18n import N_, _
from leadcore.auth import User
from leadcore.leads.visibility import check_lead, require_writer

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
        if not subject.strip():
            errors.append(ValidationError("subject", _("Subject is required.")))
        elif len(subject.strip()) > SUBJECT_LIMIT:
            errors.append(ValidationError("subject", _("Subject can have at most {n} characters.")
                                          .format(n=SUBJECT_LIMIT)))
    if note is not None and len(note.strip()) > NOTE_LIMIT:
        errors.append(ValidationError("note", _("Note can have at most {n} characters.")
                                      .format(n=f"{NOTE_LIMIT:,}")))


def check_resubmission(errors: list, resubmission_at: datetime | None, now: datetime,
                        required: bool = False) -> None:
    if resubmission_at is None:
        if required:
            errors.append(ValidationError("resubmission", _("Resubmission is required.")))
    elif resubmission_at.tzinfo is None:
        errors.append(ValidationError("resubmission", _("Resubmission needs a time zone.")))
    elif resubmission_at <= now:
        errors.append(ValidationError("resubmission", _("Resubmission must be in the future.")))


def _check_editor(cur: duckdb.DuckDBPyConnection, errors: list, editor_id: int) -> None:
    ok = cur.execute(
        "SELECT 1 FROM users WHERE id = ? AND active AND role <> 'analyst'", [editor_id]
    ).fetchall()
    if not ok:
        errors.append(ValidationError("editor", _("Editor must be an active user.")))


def due_columns(cur: duckdb.DuckDBPyConnection, arrived_at: datetime,
                 resubmission_at: datetime | None, source_id: int) -> list[datetime]:
    # The lead's source may override the escalation times (settings.due_settings merges them).
    times = duetime.due_times(arrived_at, resubmission_at, settings.due_settings(cur, source_id))
    return [times.due_at, times.reminder_at, times.stage2_at]


def move_due(cur: duckdb.DuckDBPyConnection, lead: LeadRow, now: datetime,
             resubmission_at: datetime | None, worked: bool) -> None:
    """Set the lead's resubmission and re-derive its due times from it (a new due cycle).

    worked: the user acted on the lead (a note, a message), which stamps the first response.
    """
    stamp = ", first_response_at = coalesce(first_response_at, $now)" if worked else ""
    cur.execute(
        "UPDATE leads SET resubmission_at = $resubmission, due_at = $due, reminder_at = $reminder,"
        f" stage2_at = $stage2, last_activity_at = $now{stamp} WHERE id = $lead",
        dict(zip(("due", "reminder", "stage2"),
                 due_columns(cur, lead.arrived_at, resubmission_at, lead.source_id)),
             resubmission=resubmission_at, now=now, lead=lead.id))


def append_event(cur: duckdb.DuckDBPyConnection, lead_id: int, now: datetime, user: User | None,
                 kind: str, detail: str) -> None:
    cur.execute(
        "INSERT INTO lead_events (lead_id, happened_at, user_id, kind, detail) VALUES (?, ?, ?, ?, ?)",
        [lead_id, now, user.id if user else None, kind, detail],
    )


def create_lead(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, data: LeadInput) -> int:
    """Create a lead for a contact; returns its id. Nothing is stored when any field is bad."""
    require_writer(user)
    errors: list[ValidationError] = []
    contact = cur.execute(
        "SELECT 1 FROM contacts WHERE id = ? AND NOT deleted", [data.contact_id]).fetchall()
    if not contact:
        errors.append(ValidationError("contact", _("This contact was deleted meanwhile; "
                                                   "choose another contact.")))
    source = cur.execute("SELECT active FROM sources WHERE id = ?", [data.source_id]).fetchall()
    if not source or not source[0][0]:
        errors.append(ValidationError("source", _("Source is not active; choose another source.")))
    if data.lead_type not in LEAD_TYPES:
        errors.append(ValidationError("lead_type", _("Lead type is not one of the known types.")))
    check_text(errors, data.subject, data.note)
    check_resubmission(errors, data.resubmission_at, now)
    _check_editor(cur, errors, data.editor_id)
    if errors:
        raise ValidationErrors(errors)

    def work(c: duckdb.DuckDBPyConnection) -> int:
        # An invalid VIN is kept and flagged (vehicles.cleaned), never a reason to refuse the lead.
        vehicle = vehicles.columns(vehicles.cleaned(data.vehicle, now.date()) if data.vehicle else None)
        lead_id = c.execute(
            "INSERT INTO leads (contact_id, source_id, lead_type, subject, note, editor_id, created_by,"
            " status, arrived_at, resubmission_at, due_at, reminder_at, stage2_at, last_activity_at,"
            f" {', '.join(vehicle)})"
            f" VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, {', '.join('?' * len(vehicle))})"
            " RETURNING id",
            [data.contact_id, data.source_id, data.lead_type, data.subject.strip(),
             data.note.strip() or None, data.editor_id, user.id, now, data.resubmission_at,
             *due_columns(c, now, data.resubmission_at, data.source_id), now, *vehicle.values()],
        ).fetchall()[0][0]
        append_event(c, lead_id, now, user, "created", data.subject.strip())
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


def lead_for_write(cur: duckdb.DuckDBPyConnection, user: User, lead_id: int, now: datetime) -> LeadRow:
    require_writer(user)
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


def add_note(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_id: int,
             text: str, resubmission_at: datetime | None) -> None:
    """Working the lead: a note plus a new resubmission, which clears its escalation."""
    lead = lead_for_write(cur, user, lead_id, now)
    require_open(lead)
    errors: list[ValidationError] = []
    if not text.strip():
        errors.append(ValidationError("note", _("Note is required.")))
    check_text(errors, None, text)
    check_resubmission(errors, resubmission_at, now, required=True)
    if errors:
        raise ValidationErrors(errors)

    def work(c: duckdb.DuckDBPyConnection) -> None:
        move_due(c, lead, now, resubmission_at, worked=True)
        append_event(c, lead_id, now, user, "note", text.strip())

    db.write(cur, work)


# Set resubmission, change editor and complete work on one lead or, from the list, on many:
# each is a pair of steps, `check` (may this lead take it?) and `apply` (the writes), run by
# `_act_on` in one transaction for all leads that pass.
Check = Callable[[LeadRow], None]
Apply = Callable[[duckdb.DuckDBPyConnection, LeadRow], None]


@dataclass(frozen=True)
class BulkResult:
    changed: tuple[int, ...]
    refused: dict[int, str]    # lead id -> why it was left alone


def _act_on(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_ids: list[int],
            check: Check, apply: Apply, strict: bool) -> BulkResult:
    """Check every lead, then apply to those that passed in one transaction.

    strict (one lead): the first refusal is raised. Otherwise refusals are collected and named.
    """
    require_writer(user)
    ready: list[LeadRow] = []
    refused: dict[int, str] = {}
    for lead_id in dict.fromkeys(lead_ids):
        try:
            lead = lead_for_write(cur, user, lead_id, now)
            check(lead)
        except (PermissionDenied, NotFound, ValidationErrors) as error:
            if strict:
                raise
            refused[lead_id] = error.message
            continue
        ready.append(lead)
    if ready:
        db.write(cur, lambda c: [apply(c, lead) for lead in ready])
    return BulkResult(tuple(lead.id for lead in ready), refused)


def _resubmission_steps(user: User, now: datetime, resubmission_at: datetime | None) -> tuple[Check, Apply]:
    errors: list[ValidationError] = []
    check_resubmission(errors, resubmission_at, now)
    if errors:
        raise ValidationErrors(errors)

    def apply(c: duckdb.DuckDBPyConnection, lead: LeadRow) -> None:
        move_due(c, lead, now, resubmission_at, worked=False)
        detail = (resubmission_at.isoformat() if resubmission_at
                  else _("cleared (due by arrival + stage 1)"))
        append_event(c, lead.id, now, user, "resubmission", detail)

    return require_open, apply


def _editor_steps(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
                  editor_id: int) -> tuple[Check, Apply]:
    errors: list[ValidationError] = []
    _check_editor(cur, errors, editor_id)
    if errors:
        raise ValidationErrors(errors)
    name = cur.execute("SELECT full_name FROM users WHERE id = ?", [editor_id]).fetchall()[0][0]

    def check(lead: LeadRow) -> None:
        if lead.editor_id == editor_id:
            raise ValidationErrors([ValidationError("editor", _("This user is the editor already."))])

    def apply(c: duckdb.DuckDBPyConnection, lead: LeadRow) -> None:
        c.execute("UPDATE leads SET editor_id = ?, last_activity_at = ? WHERE id = ?",
                  [editor_id, now, lead.id])
        append_event(c, lead.id, now, user, "editor", name)

    return check, apply


def _completion_steps(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
                      reason_id: int | None, comment: str) -> tuple[Check, Apply]:
    errors: list[ValidationError] = []
    reason = cur.execute(
        "SELECT label FROM completion_reasons WHERE id = ? AND NOT hidden", [reason_id or -1]
    ).fetchall()
    if not reason:
        errors.append(ValidationError("reason", _("Completion reason is required.")))
    check_text(errors, None, comment)
    if errors:
        raise ValidationErrors(errors)
    detail = reason[0][0] + (f": {comment.strip()}" if comment.strip() else "")

    def apply(c: duckdb.DuckDBPyConnection, lead: LeadRow) -> None:
        c.execute(
            "UPDATE leads SET status = 'completed', completed_at = ?, completion_reason_id = ?,"
            " first_response_at = coalesce(first_response_at, ?), last_activity_at = ? WHERE id = ?",
            [now, reason_id, now, now, lead.id])
        append_event(c, lead.id, now, user, "completed", detail)

    return require_open, apply


def set_resubmission(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_id: int,
                     resubmission_at: datetime | None) -> None:
    """Move when the lead is due; an empty resubmission falls back to arrival + stage 1."""
    lead_for_write(cur, user, lead_id, now)   # who may act is said before what is wrong with the input
    _act_on(cur, user, now, [lead_id], *_resubmission_steps(user, now, resubmission_at), strict=True)


def change_editor(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_id: int,
                  editor_id: int) -> None:
    """Hand the lead over to another active user."""
    lead_for_write(cur, user, lead_id, now)
    _act_on(cur, user, now, [lead_id], *_editor_steps(cur, user, now, editor_id), strict=True)


def complete(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_id: int,
             reason_id: int | None, comment: str = "") -> None:
    """Close the lead with a (mandatory, visible) completion reason."""
    lead_for_write(cur, user, lead_id, now)
    _act_on(cur, user, now, [lead_id], *_completion_steps(cur, user, now, reason_id, comment),
            strict=True)


def bulk_set_resubmission(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
                          lead_ids: list[int], resubmission_at: datetime | None) -> BulkResult:
    return _act_on(cur, user, now, lead_ids, *_resubmission_steps(user, now, resubmission_at),
                   strict=False)


def bulk_change_editor(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
                       lead_ids: list[int], editor_id: int) -> BulkResult:
    return _act_on(cur, user, now, lead_ids, *_editor_steps(cur, user, now, editor_id), strict=False)


def bulk_complete(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_ids: list[int],
                  reason_id: int | None, comment: str = "") -> BulkResult:
    return _act_on(cur, user, now, lead_ids, *_completion_steps(cur, user, now, reason_id, comment),
                   strict=False)


def reopen(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_id: int,
           resubmission_at: datetime | None) -> None:
    """Open a completed lead again; it needs a new resubmission to become due again."""
    lead = lead_for_write(cur, user, lead_id, now)
    errors: list[ValidationError] = []
    if lead.status == "open":
        errors.append(ValidationError("status", _("This lead is open already.")))
    check_resubmission(errors, resubmission_at, now, required=True)
    if errors:
        raise ValidationErrors(errors)

    def work(c: duckdb.DuckDBPyConnection) -> None:
        c.execute("UPDATE leads SET status = 'open', completed_at = NULL, completion_reason_id = NULL"
                  " WHERE id = ?", [lead_id])
        move_due(c, lead, now, resubmission_at, worked=False)
        append_event(c, lead_id, now, user, "reopened", resubmission_at.isoformat())

    db.write(cur, work)
