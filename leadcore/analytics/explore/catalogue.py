"""Explore: the catalogue of documented datasets (the explore_* views) and the filtered /
grouped queries built from it.

Column names reach SQL only after they were found in CATALOGUE; values always travel as
parameters. Every read (the builder's and leadcore.explore_sql's SQL box) goes through
leadcore.read_only; exports live in leadcore.exports.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pandas as pd

from leadcore import auth, db, roles
from leadcore.admin import settings
from leadcore.analytics.explore.read_only import execute_read_only
from leadcore.auth import User
from leadcore.errors import LeadcoreError
from leadcore.i18n import N_, _
from leadcore.leads.service import LEAD_TYPES
from leadcore.rules import duetime
from leadcore.rules.sql import escalation_level_sql, traffic_light_sql

ROW_CAP = 10_000
BUILDER_TIMEOUT_S = 20.0     # the builder's own queries: bounded, but a year of 10M leads takes a while
MAX_GROUPS = 3
AGGREGATES = ("count", "sum", "mean", "median", "min", "max")
# f"{function}(column)"; the median in the form both engines read (PostgreSQL has no median()).
_SQL_AGGREGATE = {"sum": "sum({})", "mean": "avg({})", "median": "percentile_cont(0.5) WITHIN GROUP (ORDER BY {})",
                  "min": "min({})", "max": "max({})"}


class QueryRefused(LeadcoreError):
    """The SQL box will not run this text; the message says why."""


# --- the catalogue -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    name: str
    kind: str              # text, number, date (local), instant (UTC moment), flag
    description: str
    group: bool = False    # may be grouped by
    measure: bool = False  # sum/mean/median make sense
    choices: tuple | str | None = None   # filter by picking values: fixed ones, or SQL listing them


@dataclass(frozen=True)
class Dataset:
    name: str              # the view
    title: str
    description: str
    columns: tuple[Column, ...]
    key: str               # one row per value
    period: str            # the instant the page filters by first (the last 30 days)

    @property
    def order(self) -> str:
        """Newest first when rows are listed."""
        return f"d.{_ident(self.period)} DESC, d.{_ident(self.key)} DESC"

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise QueryRefused(_("{dataset} has no column {column}.").format(dataset=self.name, column=name))


_DISTINCT = "distinct"
_SOURCES = "SELECT name FROM sources ORDER BY position, name"
_EDITORS = "SELECT DISTINCT full_name FROM users ORDER BY 1"
_LOCATIONS = "SELECT DISTINCT location FROM users WHERE location IS NOT NULL ORDER BY 1"
_REASONS = "SELECT label FROM completion_reasons ORDER BY position, id"
_OUTCOMES = ("won", "lost", "neutral")


def _c(name, kind, description, **flags) -> Column:
    return Column(name, kind, description, **flags)


_LEAD_COLUMNS = (
    _c("lead_id", "number", N_("Number of the lead.")),
    _c("status", "text", N_("open or completed."), group=True, choices=("open", "completed")),
    _c("traffic_light", "text", N_("on time, due soon or overdue at the moment of the query "
                                    "(empty for completed leads); same rule as the Leads list."),
       group=True, choices=(duetime.ON_TIME, duetime.DUE_SOON, duetime.OVERDUE)),
    _c("escalation_level", "number", N_("0 before due, 1 overdue at the seller, 2 escalated to the "
                                        "supervisor, at the moment of the query."), group=True),
    _c("lead_type", "text", N_("new_car, used_car, service, trade_in, financing or other."),
       group=True, choices=tuple(LEAD_TYPES)),
    _c("subject", "text", N_("The lead's one-line subject.")),
    _c("source", "text", N_("Where the lead came from (mobile.de, website form...)."),
       group=True, choices=_SOURCES),
    _c("source_channel", "text", N_("The source's channel: marketplace, website, phone..."),
       group=True, choices=_DISTINCT),
    _c("editor", "text", N_("Name of the user responsible for the lead."), group=True, choices=_EDITORS),
    _c("editor_location", "text", N_("The editor's location."), group=True, choices=_LOCATIONS),
    _c("customer", "text", N_("The contact's name (or company); empty for deleted contacts.")),
    _c("customer_company", "text", N_("The contact's company.")),
    _c("customer_postal_code", "text", N_("The contact's postal code."), group=True),
    _c("customer_city", "text", N_("The contact's city."), group=True),
    _c("customer_country", "text", N_("The contact's country."), group=True, choices=_DISTINCT),
    _c("arrived_at", "instant", N_("When the lead arrived.")),
    _c("arrived_date", "date", N_("Local date of arrival."), group=True),
    _c("arrived_hour", "number", N_("Local hour of arrival (0-23)."), group=True),
    _c("arrived_weekday", "number", N_("Weekday of arrival, 1 Monday to 7 Sunday."), group=True),
    _c("resubmission_at", "instant", N_("The resubmission, when one is set.")),
    _c("due_from_resubmission", "flag", N_("True when the due time comes from a resubmission."),
       group=True, choices=(True, False)),
    _c("due_at", "instant", N_("When the editor must act.")),
    _c("reminder_at", "instant", N_("When the editor is reminded (due minus the reminder time).")),
    _c("stage2_at", "instant", N_("When the supervisor is informed (stage 2).")),
    _c("first_response_at", "instant", N_("First note, message or completion.")),
    _c("first_response_minutes", "number", N_("Calendar minutes from arrival to first response."),
       measure=True),
    _c("last_activity_at", "instant", N_("Last change of the lead.")),
    _c("completed_at", "instant", N_("When the lead was completed.")),
    _c("completed_date", "date", N_("Local date of completion."), group=True),
    _c("completion_reason", "text", N_("Why the lead was completed."), group=True, choices=_REASONS),
    _c("completion_outcome", "text", N_("The reason's outcome: won, lost or neutral."),
       group=True, choices=_OUTCOMES),
    _c("contact_id", "number", N_("Number of the contact.")),
    _c("source_id", "number", N_("Number of the source.")),
    _c("editor_id", "number", N_("Number of the editor.")),
)

_EVENT_COLUMNS = (
    _c("event_id", "number", N_("Number of the event.")),
    _c("lead_id", "number", N_("Number of the lead.")),
    _c("kind", "text", N_("created, note, resubmission, editor, completed, reopened..."),
       group=True, choices=_DISTINCT),
    _c("happened_at", "instant", N_("When it happened.")),
    _c("happened_date", "date", N_("Local date of the event."), group=True),
    _c("happened_hour", "number", N_("Local hour of the event (0-23)."), group=True),
    _c("user_name", "text", N_("Who did it ('leadcore' for the system)."), group=True, choices=_DISTINCT),
    _c("user_role", "text", N_("That user's role."), group=True, choices=_DISTINCT),
    _c("user_location", "text", N_("That user's location."), group=True, choices=_LOCATIONS),
    _c("source", "text", N_("The lead's source."), group=True, choices=_SOURCES),
    _c("lead_type", "text", N_("The lead's type."), group=True, choices=tuple(LEAD_TYPES)),
    _c("lead_status", "text", N_("The lead's status now."), group=True, choices=("open", "completed")),
    _c("hours_after_arrival", "number", N_("Calendar hours from the lead's arrival to the event."),
       measure=True),
)

_COMPLETION_COLUMNS = (
    _c("lead_id", "number", N_("Number of the lead.")),
    _c("completed_at", "instant", N_("When the lead was completed.")),
    _c("completed_date", "date", N_("Local date of completion."), group=True),
    _c("completion_reason", "text", N_("Why the lead was completed."), group=True, choices=_REASONS),
    _c("completion_outcome", "text", N_("won, lost or neutral."), group=True, choices=_OUTCOMES),
    _c("system_reason", "flag", N_("True for the reasons that ship with leadcore."),
       group=True, choices=(True, False)),
    _c("source", "text", N_("The lead's source."), group=True, choices=_SOURCES),
    _c("source_channel", "text", N_("The source's channel."), group=True, choices=_DISTINCT),
    _c("lead_type", "text", N_("The lead's type."), group=True, choices=tuple(LEAD_TYPES)),
    _c("editor", "text", N_("Who completed it (the lead's editor)."), group=True, choices=_EDITORS),
    _c("editor_location", "text", N_("The editor's location."), group=True, choices=_LOCATIONS),
    _c("arrived_at", "instant", N_("When the lead arrived.")),
    _c("arrived_date", "date", N_("Local date of arrival."), group=True),
    _c("first_response_minutes", "number", N_("Calendar minutes from arrival to first response."),
       measure=True),
    _c("hours_to_complete", "number", N_("Calendar hours from arrival to completion."), measure=True),
)

CATALOGUE: dict[str, Dataset] = {d.name: d for d in (
    Dataset("explore_leads", N_("Leads"),
            N_("One row per lead: customer (name and place, no e-mail, phone or street), source, "
               "editor, lead type, status, due times with the traffic light and escalation level "
               "at query time, first response and completion."),
            _LEAD_COLUMNS, key="lead_id", period="arrived_at"),
    Dataset("explore_lead_events", N_("Lead events"),
            N_("One row per event in a lead's timeline (created, note, resubmission, editor, "
               "completed, reopened...) with who did it and when; the texts themselves stay out."),
            _EVENT_COLUMNS, key="event_id", period="happened_at"),
    Dataset("explore_completions", N_("Completions"),
            N_("One row per completed lead: reason and outcome (won/lost/neutral), source, "
               "editor, and how long it took."),
            _COMPLETION_COLUMNS, key="lead_id", period="completed_at"),
)}
VIEWS = frozenset(CATALOGUE)
# Computed per query (they depend on `now`), so the view itself does not have them.
# Columns the catalogue documents that are computed at query time, not stored in the view.
COMPUTED = {"explore_leads": ("traffic_light", "escalation_level")}


def require_explorer(user: User, cur=None) -> None:
    """Explore is for its roles; with a cursor the user is read again (deactivation acts at once)."""
    if cur is not None:
        user = auth.acting(cur, user)
    roles.require(user, roles.EXPLORE)


def dataset(name: str) -> Dataset:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise QueryRefused(_("There is no dataset {name}.").format(name=name)) from None


# --- the builder -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    column: str
    values: tuple = ()                  # text / flag: keep rows with one of these
    contains: str = ""                  # text: keep rows containing this (any case)
    low: float | date | None = None     # number / date / instant (local dates): from, inclusive
    high: float | date | None = None    # ... to, inclusive


@dataclass(frozen=True)
class Measure:
    function: str                       # one of AGGREGATES
    column: str | None = None           # None for count

    @property
    def label(self) -> str:
        return "count" if self.function == "count" else f"{self.function}_{self.column}"


@dataclass(frozen=True)
class ExploreQuery:
    dataset: str
    conditions: tuple[Condition, ...] = ()
    group_by: tuple[str, ...] = ()
    measures: tuple[Measure, ...] = (Measure("count"),)


@dataclass(frozen=True)
class ExploreResult:
    frame: pd.DataFrame
    truncated: bool                     # more than ROW_CAP rows: only the first ROW_CAP shown


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _from(d: Dataset) -> str:
    if d.name in COMPUTED:
        return (f"(SELECT v.*, {traffic_light_sql('v')} AS traffic_light,"
                f" {escalation_level_sql('v')} AS escalation_level FROM {d.name} v)")
    return d.name


def _where(cur, d: Dataset, conditions: tuple[Condition, ...]) -> tuple[str, dict]:
    parts, params = [], {}
    tz = settings.timezone(cur)
    for i, cond in enumerate(conditions):
        col = d.column(cond.column)
        ref = f"d.{_ident(col.name)}"
        if cond.values:
            values = [v for v in cond.values if v is not None]
            cast = {"flag": "BOOLEAN", "number": "DOUBLE PRECISION"}.get(col.kind, "VARCHAR")
            test = f"{ref} IN (SELECT unnest($v{i}::{cast}[]))"
            if len(values) < len(cond.values):
                test = f"({test} OR {ref} IS NULL)"
            parts.append(test)
            params[f"v{i}"] = values
        if cond.contains.strip():
            parts.append(f"CAST({ref} AS VARCHAR) ILIKE $c{i} ESCAPE '\\'")
            escaped = re.sub(r"([\\%_])", r"\\\1", cond.contains.strip())
            params[f"c{i}"] = f"%{escaped}%"
        if cond.low is not None:
            parts.append(f"{ref} >= $lo{i}")
            params[f"lo{i}"] = _bound(col, cond.low, tz, after=False)
        if cond.high is not None:
            parts.append(f"{ref} {'<=' if col.kind == 'number' else '<'} $hi{i}")
            params[f"hi{i}"] = _bound(col, cond.high, tz, after=True)
    return " AND ".join(parts) or "TRUE", params


def _bound(col: Column, value, tz: ZoneInfo, after: bool):
    """A range bound as SQL compares it: a number as is; a local date, for an upper bound the
    day after it (the whole last day counts); for an instant column that day's local midnight."""
    if col.kind not in ("date", "instant"):
        return value
    day = value + timedelta(days=1) if after else value
    if col.kind == "date":
        return day
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def _meaningful(col: Column, function: str) -> bool:
    """sum, mean and median of measures (and small numbers like the hour); min and max also of
    dates and instants."""
    if function in ("min", "max"):
        return col.measure or col.kind in ("date", "instant", "number")
    return col.measure or (col.kind == "number" and col.group)


def measures_for(dataset_name: str, functions: list[str], columns: list[str]) -> tuple[Measure, ...]:
    """The measures a user's picks make: count once, the other functions of each column they
    mean something for."""
    d = dataset(dataset_name)
    measures = [Measure("count")] if "count" in functions or not functions else []
    for function in (f for f in functions if f != "count"):
        measures += [Measure(function, c) for c in columns if _meaningful(d.column(c), function)]
    return tuple(measures) or (Measure("count"),)


def _measure_sql(d: Dataset, m: Measure) -> str:
    if m.function == "count":
        return f"count(*) AS {_ident(m.label)}"
    if m.function not in _SQL_AGGREGATE:
        raise QueryRefused(_("Unknown aggregate {name}.").format(name=m.function))
    col = d.column(m.column or "")
    if not _meaningful(col, m.function):
        raise QueryRefused(_("{function} of {column} is not meaningful.").format(
            function=m.function, column=col.name))
    return f"{_SQL_AGGREGATE[m.function].format(f'd.{_ident(col.name)}')} AS {_ident(m.label)}"


def build_sql(cur, q: ExploreQuery, limit: int = ROW_CAP + 1) -> tuple[str, dict]:
    """The SQL and parameters of a builder query (names checked against the catalogue)."""
    d = dataset(q.dataset)
    if len(q.group_by) > MAX_GROUPS:
        raise QueryRefused(_("Group by at most {n} columns.").format(n=MAX_GROUPS))
    where, params = _where(cur, d, q.conditions)
    if not q.group_by:
        # Two steps: the keys of the newest rows first (only the filter and order columns are
        # computed for every row), then the whole rows of just those keys.
        newest = (f"SELECT d.{_ident(d.key)} FROM {_from(d)} d WHERE {where}"
                  f" ORDER BY {d.order} LIMIT {int(limit)}")
        sql = f"SELECT * FROM {_from(d)} d WHERE d.{_ident(d.key)} IN ({newest}) ORDER BY {d.order}"
    else:
        groups = [d.column(g) for g in q.group_by]
        for g in groups:
            if not g.group:
                raise QueryRefused(_("{column} cannot be grouped by.").format(column=g.name))
        measures = q.measures or (Measure("count"),)
        select = [f"d.{_ident(g.name)}" for g in groups] + [_measure_sql(d, m) for m in measures]
        keys = ", ".join(str(i + 1) for i in range(len(groups)))
        ordered = groups[0].kind in ("date", "number")
        order = keys if ordered else f"{len(groups) + 1} DESC NULLS LAST, {keys}"
        sql = (f"SELECT {', '.join(select)} FROM {_from(d)} d WHERE {where}"
               f" GROUP BY {keys} ORDER BY {order} LIMIT {int(limit)}")
    return sql, params


def _with_now(sql: str, params: dict, now: datetime) -> dict:
    return db.used_params(sql, dict(params, now=now))


def run_query(cur, user: User, now: datetime, q: ExploreQuery,
              timeout: float = BUILDER_TIMEOUT_S) -> ExploreResult:
    require_explorer(user, cur)
    sql, params = build_sql(cur, q)
    frame = execute_read_only(cur, sql, _with_now(sql, params, now), timeout)
    return ExploreResult(frame.head(ROW_CAP), len(frame) > ROW_CAP)


def count_rows(cur, user: User, now: datetime, q: ExploreQuery, timeout: float = BUILDER_TIMEOUT_S) -> int:
    """How many rows of the dataset match the conditions."""
    require_explorer(user, cur)
    d = dataset(q.dataset)
    where, params = _where(cur, d, q.conditions)
    sql = f"SELECT count(*) AS n FROM {_from(d)} d WHERE {where}"
    return int(execute_read_only(cur, sql, _with_now(sql, params, now), timeout)["n"].iloc[0])


def choices(cur, user: User, now: datetime, dataset_name: str, column: str, limit: int = 200) -> list:
    """Values to pick from when filtering a column (fixed lists, lookups or the distinct values)."""
    require_explorer(user, cur)
    d = dataset(dataset_name)
    col = d.column(column)
    if isinstance(col.choices, tuple):
        return list(col.choices)
    if col.choices == _DISTINCT:
        sql = (f"SELECT DISTINCT d.{_ident(col.name)} AS v FROM {_from(d)} d"
               f" WHERE d.{_ident(col.name)} IS NOT NULL ORDER BY 1 LIMIT {int(limit)}")
        return execute_read_only(cur, sql, _with_now(sql, {}, now), BUILDER_TIMEOUT_S)["v"].tolist()
    if isinstance(col.choices, str):
        return [r[0] for r in cur.execute(col.choices).fetchall()]
    return []


def localise(frame: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    """Instants shown in the dealership's zone (DuckDB hands them over in UTC)."""
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.DatetimeTZDtype):
            out[name] = out[name].dt.tz_convert(tz)
    return out
