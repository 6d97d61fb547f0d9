"""Read model of one lead as its detail shows it: customer, source, due times with the traffic
light and escalation level of now (duetime's rules), completion."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from leadcore.admin import reasons
from leadcore.auth import User
from leadcore.contacts import service as contacts
from leadcore.errors import NotFound
from leadcore.i18n import _
from leadcore.leads.visibility import require_visible
from leadcore.rules import duetime


@dataclass(frozen=True)
class LeadDetail:
    id: int
    contact: contacts.Contact
    source: str
    lead_type: str
    subject: str
    note: str
    editor_id: int
    editor: str
    status: str
    arrived_at: datetime
    resubmission_at: datetime | None
    times: duetime.DueTimes
    traffic_light: str | None
    escalation_level: int
    first_response_at: datetime | None
    completed_at: datetime | None
    completion_reason: str | None


def get_lead(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_id: int) -> LeadDetail:
    """The lead as its detail view shows it; PermissionDenied for a lead the user may not see."""
    require_visible(cur, user, lead_id, now)
    row = cur.execute(
        """
        SELECT l.contact_id, s.name, l.lead_type, l.subject, coalesce(l.note, ''), l.editor_id,
               u.full_name, l.status, l.arrived_at, l.resubmission_at, l.due_at, l.reminder_at,
               l.stage2_at, l.first_response_at, l.completed_at, r.label
        FROM leads l
        JOIN sources s ON s.id = l.source_id
        JOIN users u ON u.id = l.editor_id
        LEFT JOIN completion_reasons r ON r.id = l.completion_reason_id
        WHERE l.id = ?
        """,
        [lead_id],
    ).fetchall()[0]
    (contact_id, source, lead_type, subject, note, editor_id, editor, status, arrived_at,
     resubmission_at, due_at, reminder_at, stage2_at, first_response_at, completed_at, reason) = row
    times = duetime.DueTimes(due_at, reminder_at, stage2_at, resubmission_at is not None)
    is_open = status == "open"
    return LeadDetail(
        id=lead_id,
        contact=_contact_even_if_deleted(cur, contact_id),
        source=source, lead_type=lead_type, subject=subject, note=note, editor_id=editor_id,
        editor=editor, status=status, arrived_at=arrived_at, resubmission_at=resubmission_at,
        times=times,
        traffic_light=duetime.traffic_light(now, times) if is_open else None,
        escalation_level=duetime.escalation_level(now, times) if is_open else 0,
        first_response_at=first_response_at, completed_at=completed_at, completion_reason=reasons.shown_label(reason) if reason else None,
    )


def _contact_even_if_deleted(cur: duckdb.DuckDBPyConnection, contact_id: int) -> contacts.Contact:
    try:
        return contacts.get_contact(cur, contact_id)
    except NotFound:
        return contacts.Contact(last_name=_("(deleted contact)"), id=contact_id)


