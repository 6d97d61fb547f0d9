"""Explore: documented datasets (the explore_* views), filtered / grouped queries built from
the catalogue, CSV and Parquet exports, and the read-only SQL box.

Column names reach SQL only after they were found in CATALOGUE; values always travel as
parameters. The SQL box accepts one SELECT over the documented views (checked with sqlglot and
again on DuckDB's own parse tree), runs it on its own cursor inside a read-only transaction
that is rolled back, caps the rows and interrupts it after a few seconds.
"""
from __future__ import annotations

import io
import json
import logging
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

# sqlglot logs a warning for every statement it can only read as a plain command (LOAD, CALL):
# those are refused anyway, the log line is noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

from leadcore import duetime, settings
from leadcore.errors import LeadcoreError, PermissionDenied
from leadcore.i18n import N_, _
from leadcore.lead_list import escalation_level_sql, traffic_light_sql
from leadcore.leads import LEAD_TYPES
from leadcore.users import User

ROW_CAP = 10_000
TIMEOUT_S = 5.0              # the SQL box
BUILDER_TIMEOUT_S = 20.0     # the builder's own queries: bounded, but a year of 10M leads takes a while
MAX_GROUPS = 3
AGGREGATES = ("count", "sum", "mean", "median", "min", "max")
_SQL_AGGREGATE = {"sum": "sum", "mean": "avg", "median": "median", "min": "min", "max": "max"}
EXPLORER_ROLES = ("analyst", "manager", "admin")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


class QueryRefused(LeadcoreError):
    """The SQL box will not run this text; the message says why."""


class QueryFailed(LeadcoreError):
    """The query ran and DuckDB stopped it: an error in it, or it took too long."""


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
_COMPUTED = {"explore_leads": ("traffic_light", "escalation_level")}


def require_explorer(user: User) -> None:
    if user.role not in EXPLORER_ROLES:
        raise PermissionDenied(_("Explore is for analysts, managers and admins."))


def dataset(name: str) -> Dataset:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise QueryRefused(_("There is no dataset {name}.").format(name=name)) from None


def view_columns(d: Dataset) -> list[str]:
    """The columns the view itself has (the catalogue minus the computed ones)."""
    return [c.name for c in d.columns if c.name not in _COMPUTED.get(d.name, ())]


# --- guarded execution: own cursor, read-only transaction, timeout -----------------------------

def _execute(cur: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None,
             timeout: float = TIMEOUT_S) -> pd.DataFrame:
    """Run one read on a cursor of its own (an interrupt hits nothing else), in a read-only
    transaction that is rolled back, stopped after `timeout` seconds."""
    box = cur.cursor()
    timer = threading.Timer(timeout, box.interrupt)
    try:
        box.execute("SET python_enable_replacements = false")   # no Python variables as tables
        box.execute("BEGIN TRANSACTION READ ONLY")
        timer.start()
        try:
            return box.execute(sql, params or {}).df()
        except duckdb.InterruptException:
            raise QueryFailed(_("The query took longer than {s:g} seconds and was stopped. "
                                "Filter or group more, or ask for fewer rows.").format(s=timeout)) from None
        except duckdb.Error as error:
            raise QueryFailed(_("The query failed: {error}").format(error=str(error).strip())) from None
    finally:
        timer.cancel()
        try:
            box.execute("ROLLBACK")
        except duckdb.Error:
            pass
        box.close()


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
    if d.name in _COMPUTED:
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
            cast = {"flag": "BOOLEAN", "number": "DOUBLE"}.get(col.kind, "VARCHAR")
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
    return f"{_SQL_AGGREGATE[m.function]}(d.{_ident(col.name)}) AS {_ident(m.label)}"


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
    return dict(params, now=now) if "$now" in sql else params


def run_query(cur, user: User, now: datetime, q: ExploreQuery,
              timeout: float = BUILDER_TIMEOUT_S) -> ExploreResult:
    require_explorer(user)
    sql, params = build_sql(cur, q)
    frame = _execute(cur, sql, _with_now(sql, params, now), timeout)
    return ExploreResult(frame.head(ROW_CAP), len(frame) > ROW_CAP)


def count_rows(cur, user: User, now: datetime, q: ExploreQuery, timeout: float = BUILDER_TIMEOUT_S) -> int:
    """How many rows of the dataset match the conditions."""
    require_explorer(user)
    d = dataset(q.dataset)
    where, params = _where(cur, d, q.conditions)
    sql = f"SELECT count(*) AS n FROM {_from(d)} d WHERE {where}"
    return int(_execute(cur, sql, _with_now(sql, params, now), timeout)["n"].iloc[0])


def choices(cur, user: User, now: datetime, dataset_name: str, column: str, limit: int = 200) -> list:
    """Values to pick from when filtering a column (fixed lists, lookups or the distinct values)."""
    require_explorer(user)
    d = dataset(dataset_name)
    col = d.column(column)
    if isinstance(col.choices, tuple):
        return list(col.choices)
    if col.choices == _DISTINCT:
        sql = (f"SELECT DISTINCT d.{_ident(col.name)} AS v FROM {_from(d)} d"
               f" WHERE d.{_ident(col.name)} IS NOT NULL ORDER BY 1 LIMIT {int(limit)}")
        return _execute(cur, sql, _with_now(sql, {}, now), BUILDER_TIMEOUT_S)["v"].tolist()
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


# --- exports ------------------------------------------------------------------------------------------

def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula get a leading single quote; numbers,
    dates and missing values stay as they are."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
            continue
        if column.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS)).any():
            out[name] = column.map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS)
                                   else v).astype(object)
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV as RFC 4180 has it (CRLF line ends, so a cell holding a CR or LF is quoted), in UTF-8
    with a byte-order mark so spreadsheet programs read umlauts right."""
    return neutralise(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def to_parquet(frame: pd.DataFrame) -> bytes:
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Mixed types in one column (possible from the SQL box): write those columns as text.
        mixed = {n: frame[n].map(lambda v: None if v is None or v is pd.NA else str(v))
                 for n in frame.columns if frame[n].dtype == object}
        table = pa.Table.from_pandas(frame.assign(**mixed), preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


# --- the SQL box ------------------------------------------------------------------------------------

SQL_MAX_CHARS = 20_000
# Functions that read files, the catalogue or settings, or change state (sequences, checkpoints).
_DENIED_FUNCTIONS = re.compile(
    r"^(read_\w+|glob|query|query_table|pragma_\w*|duckdb_\w+|sqlite_\w+|pg_\w+|parquet_\w+|"
    r"current_setting|getenv|nextval|currval|setval|checkpoint|force_checkpoint|"
    r"json_execute_serialized_sql|sql_auto_complete|which_secret|load_aws_credentials|"
    r"iceberg_\w+|delta_\w+|icu_\w+|enable_\w+|disable_\w+)$", re.IGNORECASE)


def _refuse(message: str) -> QueryRefused:
    return QueryRefused(message)


def _no_table_functions() -> str:
    return _("Table functions (read_csv, range, unnest...) are not allowed in FROM; query the "
             "views: {views}.").format(views=", ".join(sorted(VIEWS)))


def _catalogue_names(cur) -> set[str]:
    rows = cur.execute("SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"
                       " UNION SELECT sequence_name FROM duckdb_sequences()").fetchall()
    return {r[0].lower() for r in rows}


def _check_tree(tree: exp.Expression, catalogue: set[str]) -> None:
    """sqlglot's reading: one SELECT, every table a documented view or a CTE of the query."""
    if not isinstance(tree, (exp.Select, exp.SetOperation)):
        raise _refuse(_("Only a SELECT (or WITH ... SELECT) query is allowed here."))
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    clash = sorted(ctes & (catalogue - VIEWS))
    if clash:
        raise _refuse(_("Name your WITH query differently: {name} is a table of the database.")
                      .format(name=clash[0]))
    for node in tree.walk():
        if isinstance(node, exp.Into):
            raise _refuse(_("SELECT ... INTO would create a table; only reading is allowed."))
        if isinstance(node, exp.Table):
            if not isinstance(node.this, exp.Identifier):
                raise _refuse(_no_table_functions())
            if node.db or node.catalog:
                raise _refuse(_("Use the view names without a schema: {views}.").format(
                    views=", ".join(sorted(VIEWS))))
            if node.name.lower() not in VIEWS | ctes:
                raise _refuse(_("{name} is not one of the documented views ({views}).").format(
                    name=node.name, views=", ".join(sorted(VIEWS))))
        elif isinstance(node, (exp.Func, exp.Anonymous)):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            if _DENIED_FUNCTIONS.match(name or ""):
                raise _refuse(_("The function {name} is not allowed here.").format(name=name.lower()))


def _capped(tree: exp.Expression, cap: int) -> exp.Expression:
    """The query with LIMIT cap + 1 (or its own smaller literal LIMIT)."""
    limit = tree.args.get("limit")
    if isinstance(tree, exp.Select) and limit is not None:
        value = limit.expression
        if isinstance(value, exp.Literal) and value.is_int and int(value.this) <= cap + 1:
            return tree
    if limit is None and not tree.args.get("offset"):
        tree.set("limit", exp.Limit(expression=exp.Literal.number(cap + 1)))
        return tree
    return exp.select("*").from_(tree.subquery("capped")).limit(cap + 1)


def _duckdb_walk(node, found: dict) -> None:
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "BASE_TABLE":
            found["tables"].append((node.get("catalog_name"), node.get("schema_name"), node.get("table_name")))
        elif kind == "TABLE_FUNCTION":
            found["table_functions"] += 1
        if node.get("class") == "FUNCTION":
            found["functions"].append(node.get("function_name", ""))
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            found["ctes"].extend(entry.get("key", "") for entry in cte_map.get("map", []))
        for value in node.values():
            _duckdb_walk(value, found)
    elif isinstance(node, list):
        for value in node:
            _duckdb_walk(value, found)


def _check_with_duckdb(cur, sql: str) -> None:
    """DuckDB's own reading of the text we will run: one SELECT over views and CTEs only."""
    try:
        statements = cur.extract_statements(sql)
    except duckdb.Error as error:
        raise _refuse(_("The query could not be read: {error}").format(error=str(error).strip())) from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise _refuse(_("Only a single SELECT query is allowed here."))
    tree = json.loads(cur.execute("SELECT json_serialize_sql($q)", {"q": sql}).fetchall()[0][0])
    if tree.get("error"):
        raise _refuse(_("The query could not be read: {error}").format(error=tree.get("error_message", "")))
    found = {"tables": [], "functions": [], "ctes": [], "table_functions": 0}
    _duckdb_walk(tree["statements"], found)
    if found["table_functions"]:
        raise _refuse(_no_table_functions())
    allowed = VIEWS | {c.lower() for c in found["ctes"]}
    for catalog, schema, table in found["tables"]:
        if catalog or schema or table.lower() not in allowed:
            raise _refuse(_("{name} is not one of the documented views ({views}).").format(
                name=table, views=", ".join(sorted(VIEWS))))
    for name in found["functions"]:
        if _DENIED_FUNCTIONS.match(name):
            raise _refuse(_("The function {name} is not allowed here.").format(name=name))


def check_sql(cur, text: str, cap: int = ROW_CAP) -> str:
    """The SQL that will run for `text` (capped at cap + 1 rows), or QueryRefused saying why."""
    if not text or not text.strip():
        raise _refuse(_("Type a SELECT query over the documented views."))
    if len(text) > SQL_MAX_CHARS:
        raise _refuse(_("The query is longer than {n} characters.").format(n=f"{SQL_MAX_CHARS:,}"))
    try:
        trees = [t for t in sqlglot.parse(text, read="duckdb") if t is not None]
    except sqlglot.errors.SqlglotError as error:
        first = str(error).splitlines()[0] if str(error) else ""
        raise _refuse(_("The query could not be read: {error}").format(error=first)) from None
    if len(trees) != 1:
        raise _refuse(_("Only one statement at a time, please (found {n}).").format(n=len(trees)))
    _check_tree(trees[0], _catalogue_names(cur))
    sql = _capped(trees[0], cap).sql(dialect="duckdb", comments=False)
    _check_with_duckdb(cur, sql)
    return sql


def run_sql(cur, user: User, text: str, cap: int = ROW_CAP, timeout: float = TIMEOUT_S) -> ExploreResult:
    """Run the SQL box's text: refused (QueryRefused) unless one SELECT over the explore views;
    at most `cap` rows; stopped after `timeout` seconds (QueryFailed)."""
    require_explorer(user)
    sql = check_sql(cur, text, cap)
    frame = _execute(cur, sql, None, timeout)
    return ExploreResult(frame.head(cap), len(frame) > cap)
