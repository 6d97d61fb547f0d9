"""Read model of leads: the paged, filtered Leads list and the lead detail with its timeline.

The traffic light and escalation level are computed here in SQL from the stored due times,
by the same rule as leadcore.duetime.traffic_light / escalation_level (a test keeps them equal).
"""
from __future__ import annotations


from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from leadcore.contacts.service import customer_name_sql
from leadcore import db
from leadcore.contacts import service as contacts
from leadcore.rules import duetime
from leadcore.admin import settings
from leadcore.errors import NotFound, PermissionDenied
from leadcore.i18n import _
from leadcore.paging import Page, fetch_page
from leadcore.auth import User
from leadcore.leads.visibility import check_lead, lead_predicate
from leadcore.rules.sql import escalation_level_sql, traffic_light_filter_sql, traffic_light_sql


@dataclass(frozen=True)
class LeadFilter:
    text: str = ""
    mine: bool = False
    statuses: tuple[str, ...] = ("open",)
    source_ids: tuple[int, ...] = ()
    editor_ids: tuple[int, ...] = ()
    traffic_lights: tuple[str, ...] = ()
    lead_types: tuple[str, ...] = ()
    created_from: date | None = None
    created_to: date | None = None
    contact_id: int | None = None


@dataclass
class _Where:
    parts: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def add(self, sql: str, **params) -> None:
        self.parts.append(sql)
        self.params.update(params)

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) or "TRUE"


def _conditions(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, f: LeadFilter) -> _Where:
    where = _Where(params={"now": now})
    visible, vparams = lead_predicate(cur, user, now)
    where.add(visible, **vparams)
    if f.mine:
        where.add("l.editor_id = $me", me=user.id)
    if f.statuses:
        where.add("l.status IN (SELECT unnest($statuses::VARCHAR[]))", statuses=list(f.statuses))
    if f.source_ids:
        where.add("l.source_id IN (SELECT unnest($sources::BIGINT[]))", sources=list(f.source_ids))
    if f.editor_ids:
        where.add("l.editor_id IN (SELECT unnest($editors::BIGINT[]))", editors=list(f.editor_ids))
    if f.lead_types:
        where.add("l.lead_type IN (SELECT unnest($types::VARCHAR[]))", types=list(f.lead_types))
    if f.traffic_lights:
        where.add(traffic_light_filter_sql(f.traffic_lights))
    if f.contact_id is not None:
        where.add("l.contact_id = $contact", contact=f.contact_id)
    tz = settings.timezone(cur)
    if f.created_from:
        where.add("l.arrived_at >= $from_at", from_at=datetime.combine(f.created_from, datetime.min.time(), tz))
    if f.created_to:
        end = datetime.combine(f.created_to + timedelta(days=1), datetime.min.time(), tz)
        where.add("l.arrived_at < $to_at", to_at=end)
    if f.text.strip():
        match, mparams = contacts.search_predicate(f.text, alias="c")
        where.add(f"(l.subject ILIKE $subject OR l.contact_id IN (SELECT c.id FROM contacts c WHERE {match}))",
                  subject=f"%{f.text.strip()}%", **mparams)
    return where


LIST_COLUMNS = ["id", "customer", "lead_type", "editor_id", "editor", "source", "subject",
                "last_activity_at", "due_at", "traffic_light", "escalation_level", "status"]


def list_leads(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, f: LeadFilter,
               after: tuple | None = None, page_size: int = 50) -> Page:
    """One page of the Leads list: open before completed, then by due (overdue first)."""
    where = _conditions(cur, user, now, f)
    page = fetch_page(
        cur,
        select=f"SELECT l.id, l.editor_id, l.lead_type, l.subject, l.last_activity_at, l.due_at,"
               f" {traffic_light_sql()} AS traffic_light, {escalation_level_sql()} AS escalation_level,"
               f" l.status, (l.status <> 'open') AS closed FROM leads l",
        where=where.sql,
        params=where.params,
        order=("(l.status <> 'open')", "l.due_at", "l.id"),
        key_columns=("closed", "due_at", "id"),
        after=after,
        page_size=page_size,
    )
    return Page(_with_names(cur, page.rows), page.next_after)


def count_leads(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, f: LeadFilter) -> int:
    where = _conditions(cur, user, now, f)
    # DuckDB refuses named parameters the statement does not use ($now is only used by some filters).
    params = db.used_params(where.sql, where.params)
    return cur.execute(f"SELECT count(*) FROM leads l WHERE {where.sql}", params).fetchall()[0][0]


def _with_names(cur: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> pd.DataFrame:
    """Customer, editor and source names for one page of leads (a join over ~50 rows)."""
    if rows.empty:
        return pd.DataFrame(columns=LIST_COLUMNS)
    names = cur.execute(
        f"""
        SELECT l.id,
               {customer_name_sql("c")} AS customer,
               u.full_name AS editor, s.name AS source
        FROM leads l
        JOIN contacts c ON c.id = l.contact_id
        JOIN users u ON u.id = l.editor_id
        JOIN sources s ON s.id = l.source_id
        WHERE l.id IN (SELECT unnest(?::BIGINT[]))
        """,
        [rows["id"].astype(int).tolist()],
    ).df()
    merged = rows.merge(names, on="id", how="left")
    return merged[LIST_COLUMNS].reset_index(drop=True)


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


def require_visible(cur: duckdb.DuckDBPyConnection, user: User, lead_id: int,
                     now: datetime | None) -> None:
    if not check_lead(cur, user, lead_id, now):
        if cur.execute("SELECT 1 FROM leads WHERE id = ?", [lead_id]).fetchall():
            raise PermissionDenied(_("You may not see this lead."))
        raise NotFound(_("This lead does not exist."))


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
        first_response_at=first_response_at, completed_at=completed_at, completion_reason=reason,
    )


def _contact_even_if_deleted(cur: duckdb.DuckDBPyConnection, contact_id: int) -> contacts.Contact:
    try:
        return contacts.get_contact(cur, contact_id)
    except NotFound:
        return contacts.Contact(last_name=_("(deleted contact)"), id=contact_id)


def timeline(cur: duckdb.DuckDBPyConnection, user: User, lead_id: int,
             now: datetime | None = None) -> pd.DataFrame:
    """Every event of the lead, newest first: when, who, what."""
    require_visible(cur, user, lead_id, now)
    return cur.execute(
        """
        SELECT e.happened_at, coalesce(u.full_name, 'leadcore') AS who, e.kind, e.detail
        FROM lead_events e LEFT JOIN users u ON u.id = e.user_id
        WHERE e.lead_id = ? ORDER BY e.happened_at DESC, e.id DESC
        """,
        [lead_id],
    ).df()
