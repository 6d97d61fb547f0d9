"""Dashboard read models: the key figures and the six charts' numbers, aggregated in DuckDB.

Every figure honours the viewer's visibility (leadcore.visibility) and a DashboardFilter. The
traffic light and escalation level are lead_list's SQL twins of the duetime rules; working time
to the first response is counted in SQL against a per-UTC-day working calendar built from the
settings by leadcore.duetime (see `_calendar`). SQL returns small aggregates (per source, editor,
light, day...); pandas only reshapes those.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

import duckdb
import pandas as pd

from leadcore import auth, db, roles
from leadcore.admin import reasons, settings
from leadcore.auth import User
from leadcore.leads.visibility import lead_predicate
from leadcore.rules import duetime
from leadcore.rules.sql import DAY_US, calendar_cte, escalation_level_sql, local_date, traffic_light_sql, worked_until

__all__ = [
    "require_dashboard", "DashboardFilter", "KeyFigures", "Dashboard", "PRESETS",
    "preset_period", "locations", "bucket_of", "by_source_table", "dashboard",
    "Scope", "scope", "open_snapshot", "new_per_bucket", "response_table", "completion_table",
    "Aggregates", "aggregates", "shaped",
]

UTC = timezone.utc
_HOUR_US = 3_600_000_000
# Ends a subquery whose per-row values the query names several times (epoch microseconds of
# an instant): PostgreSQL would otherwise fold the subquery into the query and compute each
# value again wherever it is named (the calendar join and worked_until / local_date: 6 times a
# row; 350 -> 275 ms at a million leads). A no-op on DuckDB.
_ONCE = "OFFSET 0"
WEEKLY_AFTER_DAYS = 60            # longer periods show new leads per week, not per day
PRESETS = ("today", "7 days", "30 days", "this quarter", "custom")
def require_dashboard(user: User) -> None:
    # Supervisors see their team's leads (the visibility predicate), the others all leads.
    roles.require(user, roles.DASHBOARD)


@dataclass(frozen=True)
class DashboardFilter:
    period_from: date                       # local dates of the dealership, both inclusive
    period_to: date
    location: str | None = None             # users.location of the lead's editor
    source_ids: tuple[int, ...] = ()
    lead_types: tuple[str, ...] = ()
    picked_source: str | None = None        # a source name clicked in a chart

    @property
    def days(self) -> int:
        return (self.period_to - self.period_from).days + 1


def preset_period(preset: str, today: date) -> tuple[date, date]:
    """(from, to) of a period preset, ending today; 'custom' is the caller's own range."""
    if preset == "today":
        return today, today
    if preset == "7 days":
        return today - timedelta(days=6), today
    if preset == "30 days":
        return today - timedelta(days=29), today
    if preset == "this quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    raise ValueError(f"unknown period preset {preset!r}")


def bucket_of(f: DashboardFilter) -> str:
    """'day' or 'week': how new leads are counted over the period."""
    return "week" if f.days > WEEKLY_AFTER_DAYS else "day"


def locations(cur: duckdb.DuckDBPyConnection) -> list[str]:
    rows = cur.execute(
        "SELECT DISTINCT location FROM users WHERE location IS NOT NULL AND location <> '' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


# --- SQL plumbing ----------------------------------------------------------------------------

def _query(cur: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pd.DataFrame:
    return cur.execute(sql, db.used_params(sql, params)).df()


@dataclass(frozen=True)
class Scope:
    """What every dashboard query shares, read once per call: the cursor, the WHERE over
    `leads l` (visibility, location, sources, lead types; not the period), its parameters
    (with $now and the period as $from_at / $to_at), the period as UTC instants and the rules."""
    cur: duckdb.DuckDBPyConnection
    where: str
    params: dict
    start: datetime
    end: datetime
    rules: duetime.DueSettings
    weekly: bool


def scope(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, f: DashboardFilter) -> Scope:
    user = auth.acting(cur, user, roles.DASHBOARD)   # as stored now: a demotion acts at once
    visible, params = lead_predicate(cur, user, now, alias="l")
    parts = [visible]
    if f.location:
        parts.append("l.editor_id IN (SELECT id FROM users WHERE location = $location)")
        params["location"] = f.location
    if f.source_ids:
        parts.append("l.source_id IN (SELECT unnest($source_ids::BIGINT[]))")
        params["source_ids"] = list(f.source_ids)
    if f.lead_types:
        parts.append("l.lead_type IN (SELECT unnest($lead_types::VARCHAR[]))")
        params["lead_types"] = list(f.lead_types)
    rules = settings.due_settings(cur)
    # The period in local days: from its first local midnight to the one after its last day.
    start = datetime.combine(f.period_from, time(0), tzinfo=rules.tz).astimezone(UTC)
    end = datetime.combine(f.period_to + timedelta(days=1), time(0), tzinfo=rules.tz).astimezone(UTC)
    return Scope(cur, " AND ".join(f"({p})" for p in parts),
                  dict(params, now=now, from_at=start, to_at=end), start, end, rules,
                  bucket_of(f) == "week")


# --- the aggregate queries: one scan each (public so benchmarks.dashboard can time them) ----

def open_snapshot(q: Scope) -> pd.DataFrame:
    """Open leads now, counted per source, editor, traffic light and escalation level (one scan
    for the key figures, the two open-lead charts and the workload)."""
    return _query(q.cur, f"""
        WITH a AS (
            SELECT l.source_id, l.editor_id, {traffic_light_sql()} AS traffic_light,
                   {escalation_level_sql()} AS escalation_level, count(*) AS leads
            FROM leads l WHERE l.status = 'open' AND {q.where}
            GROUP BY 1, 2, 3, 4)
        SELECT s.name AS source, s.position AS source_position, a.editor_id,
               coalesce(u.full_name, '?') AS editor, a.traffic_light, a.escalation_level, a.leads
        FROM a JOIN sources s ON s.id = a.source_id LEFT JOIN users u ON u.id = a.editor_id
        ORDER BY s.position, s.name, editor
        """, q.params)


def new_per_bucket(q: Scope) -> pd.DataFrame:
    cal, cal_params = calendar_cte(q.rules, q.start, q.end)
    day = local_date("t.arrived_us", "c")
    bucket = f"date_trunc('week', {day})::DATE" if q.weekly else day
    return _query(q.cur, f"""
        WITH {cal}, t AS (
            SELECT l.source_id, epoch_us(l.arrived_at) AS arrived_us FROM leads l
            WHERE {q.where} AND l.arrived_at >= $from_at AND l.arrived_at < $to_at
            {_ONCE}),
        a AS (
            SELECT t.source_id, {bucket} AS period_start, count(*) AS leads
            FROM t JOIN cal c ON c.day = t.arrived_us // {DAY_US}
            GROUP BY 1, 2)
        SELECT a.period_start, s.name AS source, s.position AS source_position, a.leads
        FROM a JOIN sources s ON s.id = a.source_id
        ORDER BY s.position, s.name, a.period_start
        """, dict(q.params, **cal_params))


_RESPONSE_MARGIN = timedelta(days=31)


def response_table(q: Scope) -> pd.DataFrame:
    """Per source, and for all sources together (source NULL): median and p90 working hours
    from arrival to first response, over the leads that arrived in the period and were worked."""
    # The calendar covers the period and every first response of its leads: those happened by
    # now (a month's margin for a clock set back). Not asking the leads for their latest first
    # response saves a query on the Dashboard's slowest path (~20 ms at a million leads).
    cal, cal_params = calendar_cte(q.rules, q.start, max(q.end, q.params["now"]) + _RESPONSE_MARGIN)
    worked = (f"greatest({worked_until('t.responded_us', 'cb')}"
              f" - {worked_until('t.arrived_us', 'ca')}, 0)")
    return _query(q.cur, f"""
        WITH {cal}, t AS (
            SELECT l.source_id, epoch_us(l.arrived_at) AS arrived_us,
                   epoch_us(l.first_response_at) AS responded_us
            FROM leads l
            WHERE {q.where} AND l.arrived_at >= $from_at AND l.arrived_at < $to_at
              AND l.first_response_at IS NOT NULL
            {_ONCE}),
        r AS (
            SELECT t.source_id, {worked} AS worked_us
            FROM t
            JOIN cal ca ON ca.day = t.arrived_us // {DAY_US}
            JOIN cal cb ON cb.day = t.responded_us // {DAY_US}),
        g AS (
            -- both percentiles from one sort per group (PostgreSQL sorts once per aggregate)
            SELECT source_id, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY worked_us) AS p,
                   count(*) AS leads
            FROM r GROUP BY GROUPING SETS ((source_id), ()))
        SELECT s.name AS source, s.position AS source_position, g.p[1] / {_HOUR_US} AS median_hours,
               g.p[2] / {_HOUR_US} AS p90_hours, g.leads
        FROM g LEFT JOIN sources s ON s.id = g.source_id
        ORDER BY s.position NULLS FIRST, s.name
        """, dict(q.params, **cal_params))


def completion_table(q: Scope) -> pd.DataFrame:
    return _query(q.cur, f"""
        WITH a AS (
            SELECT l.source_id, l.completion_reason_id, count(*) AS leads
            FROM leads l
            WHERE {q.where} AND l.status = 'completed'
              AND l.completed_at >= $from_at AND l.completed_at < $to_at
            GROUP BY 1, 2)
        SELECT s.name AS source, s.position AS source_position,
               coalesce(r.label, '?') AS reason, coalesce(r.outcome, 'neutral') AS outcome,
               coalesce(r.position, 999999) AS reason_position, a.leads
        FROM a JOIN sources s ON s.id = a.source_id
        LEFT JOIN completion_reasons r ON r.id = a.completion_reason_id
        ORDER BY s.position, s.name, reason_position, reason
        """, q.params).pipe(lambda f: f.assign(reason=f["reason"].map(reasons.shown_label)))


# --- shaping the aggregates --------------------------------------------------------------------

def _picked(frame: pd.DataFrame, f: DashboardFilter) -> pd.DataFrame:
    if f.picked_source is None or "source" not in frame:
        return frame
    return frame[frame["source"] == f.picked_source].reset_index(drop=True)


def _sum_by(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Leads summed per `keys`, in first-seen order."""
    if frame.empty:
        return pd.DataFrame({k: pd.Series(dtype=frame[k].dtype) for k in keys}
                            | {"leads": pd.Series(dtype="int64")})
    return frame.groupby(keys, sort=False, as_index=False)["leads"].sum().astype({"leads": "int64"})


_LIGHT_RANK = {duetime.OVERDUE: 0, duetime.DUE_SOON: 1, duetime.ON_TIME: 2}


def _open_by_light(snapshot: pd.DataFrame) -> pd.DataFrame:
    """Sources in their configured order (the snapshot's), overdue first within each."""
    summed = _sum_by(snapshot, ["source", "traffic_light"])
    position = {source: i for i, source in enumerate(pd.unique(summed["source"]))}
    order = sorted(range(len(summed)), key=lambda i: (position[summed["source"].iat[i]],
                                                      _LIGHT_RANK[summed["traffic_light"].iat[i]]))
    return summed.iloc[order].reset_index(drop=True)


def _escalated(snapshot: pd.DataFrame) -> pd.DataFrame:
    result = _sum_by(snapshot[snapshot["escalation_level"] > 0], ["source", "escalation_level"])
    return result.astype({"escalation_level": "int64"})


def _workload(snapshot: pd.DataFrame) -> pd.DataFrame:
    """Open and overdue leads per editor, most overdue first, then most open, then by name."""
    per_editor: dict[tuple, list[int]] = {}
    for editor_id, editor, light, leads in snapshot[["editor_id", "editor", "traffic_light", "leads"]
                                                    ].itertuples(index=False):
        counts = per_editor.setdefault((editor_id, editor), [0, 0])
        counts[0] += int(leads)
        counts[1] += int(leads) if light == duetime.OVERDUE else 0
    rows = sorted(((editor, open_, overdue) for (_id, editor), (open_, overdue) in per_editor.items()),
                  key=lambda row: (-row[2], -row[1], row[0]))
    frame = pd.DataFrame(rows, columns=["editor", "open", "overdue"])
    return frame.astype({"open": "int64", "overdue": "int64"})


def _responses(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["source"].notna()].drop(columns="source_position").reset_index(drop=True)


def _completions(table: pd.DataFrame) -> pd.DataFrame:
    return table[["source", "reason", "outcome", "leads"]].astype({"leads": "int64"})


def _new(table: pd.DataFrame) -> pd.DataFrame:
    """By source (in the configured order: charts list the sources that way), then by day."""
    frame = table[["period_start", "source", "leads"]].astype({"leads": "int64"})
    frame["period_start"] = pd.to_datetime(frame["period_start"])
    return frame


def by_source_table(frame: pd.DataFrame, column: str, order: list | None = None) -> pd.DataFrame:
    """A chart's long frame as a table to read: one row per source, one column per value of
    `column` (in `order`), and a total."""
    if frame.empty:
        return pd.DataFrame(columns=["source", "total"])
    wide = frame.pivot_table(index="source", columns=column, values="leads", aggfunc="sum",
                             fill_value=0, sort=False)
    present = [v for v in (order or list(wide.columns)) if v in wide.columns]
    wide = wide[present].astype("int64")
    wide["total"] = wide.sum(axis=1)
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


@dataclass(frozen=True)
class KeyFigures:
    open: int
    due_soon: int
    overdue: int
    escalated_supervisor: int                 # escalation level 2
    new_in_period: int
    median_response_hours: float | None       # working hours, leads arrived in the period
    won: int
    lost: int

    @property
    def win_rate(self) -> float | None:
        """won / (won + lost) over the completions in the period; neutral ones do not count."""
        decided = self.won + self.lost
        return self.won / decided if decided else None


def _figures(snapshot: pd.DataFrame, new: pd.DataFrame, responses: pd.DataFrame,
             completed: pd.DataFrame, f: DashboardFilter) -> KeyFigures:
    def count(frame: pd.DataFrame, mask=None) -> int:
        return int(frame["leads"][mask].sum()) if mask is not None else int(frame["leads"].sum())

    if f.picked_source is None:
        overall = responses[responses["source"].isna()]
    else:
        overall = responses[responses["source"] == f.picked_source]
    median = overall["median_hours"].iloc[0] if len(overall) else None
    return KeyFigures(
        open=count(snapshot),
        due_soon=count(snapshot, snapshot["traffic_light"] == duetime.DUE_SOON),
        overdue=count(snapshot, snapshot["traffic_light"] == duetime.OVERDUE),
        escalated_supervisor=count(snapshot, snapshot["escalation_level"] == 2),
        new_in_period=count(new),
        median_response_hours=None if median is None or pd.isna(median) else float(median),
        won=count(completed, completed["outcome"] == "won"),
        lost=count(completed, completed["outcome"] == "lost"),
    )


@dataclass(frozen=True)
class Dashboard:
    figures: KeyFigures
    open_by_light: pd.DataFrame
    escalated: pd.DataFrame
    new_leads: pd.DataFrame
    bucket: str
    response_times: pd.DataFrame
    completions: pd.DataFrame
    workload: pd.DataFrame


@dataclass(frozen=True)
class Aggregates:
    """The four aggregate queries' results, before shaping (the picked source plays no part)."""
    snapshot: pd.DataFrame
    new: pd.DataFrame
    responses: pd.DataFrame
    completed: pd.DataFrame


def aggregates(cur, user: User, now: datetime, f: DashboardFilter) -> Aggregates:
    """The four aggregate queries (and one bound lookup); the SQL never filters by the picked
    source, so a click on a source reuses them."""
    q = scope(cur, user, now, f)
    queries = (open_snapshot, new_per_bucket, response_table, completion_table)
    if db.engine(cur) != "postgres":
        return Aggregates(*(run(q) for run in queries))
    # PostgreSQL runs a query on one core at a time (DuckDB spreads one over all): the four
    # independent queries go side by side, each on a pooled connection of its own.
    with ThreadPoolExecutor(len(queries), thread_name_prefix="dashboard") as pool:
        return Aggregates(*pool.map(lambda run: _on_own_cursor(run, q), queries))


def _on_own_cursor(run: Callable[[Scope], pd.DataFrame], q: Scope) -> pd.DataFrame:
    own = q.cur.cursor()
    try:
        return run(replace(q, cur=own))
    finally:
        own.close()


def shaped(a: Aggregates, f: DashboardFilter) -> Dashboard:
    """What the Dashboard shows from the aggregates (pandas over a few hundred rows).

    The charts that have a bar per source (open, escalated, response times, completions) keep
    every source and only highlight a picked one; the key figures, new leads and the workload
    are filtered to it.
    """
    return Dashboard(
        figures=_figures(_picked(a.snapshot, f), _picked(a.new, f), a.responses, _picked(a.completed, f), f),
        open_by_light=_open_by_light(a.snapshot),
        escalated=_escalated(a.snapshot),
        new_leads=_new(_picked(a.new, f)),
        bucket=bucket_of(f),
        response_times=_responses(a.responses),
        completions=_completions(a.completed),
        workload=_workload(_picked(a.snapshot, f)),
    )


def dashboard(cur, user: User, now: datetime, f: DashboardFilter) -> Dashboard:
    """Everything the Dashboard shows: the aggregates, shaped."""
    return shaped(aggregates(cur, user, now, f), f)
