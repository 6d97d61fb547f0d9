"""Read model of the Leads list: filtered, searched, paged in SQL at any number of leads.

The traffic light and escalation level are computed in SQL from the stored due times
(leadcore.rules.sql, the twins of duetime's rules).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from leadcore import db
from leadcore.admin import settings
from leadcore.auth import User
from leadcore.contacts import service as contacts
from leadcore.contacts.service import customer_name_sql
from leadcore.leads.visibility import lead_predicate
from leadcore.paging import Page, fetch_page
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
    # The dealership's days: its time zone is read only when a date limits the list.
    tz = settings.timezone(cur) if f.created_from or f.created_to else None
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
    """One page of the Leads list: open before completed, then by due (overdue first).

    In two steps: the page's keys first (sorting every matching lead by its keys alone), then the
    shown columns for those 50 leads only. Computing the traffic light and reading the subject
    of every matching lead just to keep 50 cost a third of a Leads rerun's CPU at 1,000,000 leads.
    """
    where = _conditions(cur, user, now, f)
    keys = fetch_page(
        cur,
        select="SELECT l.id, (l.status <> 'open') AS closed, l.due_at FROM leads l",
        where=where.sql,
        params=db.used_params(where.sql, where.params),
        order=("(l.status <> 'open')", "l.due_at", "l.id"),
        key_columns=("closed", "due_at", "id"),
        after=after,
        page_size=page_size,
    )
    return Page(_shown(cur, now, keys.rows["id"]), keys.next_after)


def count_leads(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, f: LeadFilter) -> int:
    where = _conditions(cur, user, now, f)
    # DuckDB refuses named parameters the statement does not use ($now is only used by some filters).
    params = db.used_params(where.sql, where.params)
    return cur.execute(f"SELECT count(*) FROM leads l WHERE {where.sql}", params).fetchall()[0][0]


def _shown(cur: duckdb.DuckDBPyConnection, now: datetime, ids: pd.Series) -> pd.DataFrame:
    """The list's columns for one page of leads, in the page's order (a lookup of ~50 rows)."""
    if ids.empty:
        return pd.DataFrame(columns=LIST_COLUMNS)
    rows = cur.execute(
        f"""
        SELECT l.id, {customer_name_sql("c")} AS customer, l.lead_type, l.editor_id,
               u.full_name AS editor, s.name AS source, l.subject, l.last_activity_at, l.due_at,
               {traffic_light_sql()} AS traffic_light, {escalation_level_sql()} AS escalation_level,
               l.status
        FROM leads l
        JOIN contacts c ON c.id = l.contact_id
        JOIN users u ON u.id = l.editor_id
        JOIN sources s ON s.id = l.source_id
        WHERE l.id IN (SELECT unnest($ids::BIGINT[]))
        """,
        {"ids": ids.astype(int).tolist(), "now": now},
    ).df()
    return ids.to_frame("id").merge(rows, on="id", how="left")[LIST_COLUMNS].reset_index(drop=True)
