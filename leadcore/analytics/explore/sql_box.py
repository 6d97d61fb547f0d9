"""The Explore page's SQL box: one SELECT over the documented explore_* views, checked with
sqlglot (scopes) and again on DuckDB's own parse tree (scopes and allow-lists, sql_tree), capped,
and run read-only under a time and memory cap (read_only, caps). docs/design.md says why each.

One dialect on both engines: analysts write DuckDB's SQL, checked the same way everywhere. On
PostgreSQL the checked tree runs as sqlglot renders it for PostgreSQL (FROM-first, median and
GROUP BY ALL then work there too), as the role leadcore_explore, which may read the explore views
and nothing else (migration 0015), in a read-only transaction with statement_timeout: there the
role and the transaction are the boundary, and the checks keep the same refusals and messages."""
from __future__ import annotations

import logging

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from leadcore import db
from leadcore.analytics.explore.caps import sql_box_limits
from leadcore.analytics.explore.catalogue import (
    ROW_CAP,
    VIEWS,
    ExploreResult,
    QueryRefused,
    require_explorer,
)
from leadcore.analytics.explore.read_only import execute_read_only
from leadcore.analytics.explore.sql_tree import (
    check_tree,
    no_table_functions,
    parser,
    views_text,
)
from leadcore.auth import User
from leadcore.i18n import _

log = logging.getLogger(__name__)

__all__ = ["EXPLORE_ROLE", "MEMORY_BYTES", "SQL_MAX_CHARS", "TIMEOUT_S", "check_sql", "run_sql"]

TIMEOUT_S = 5.0
SQL_MAX_CHARS = 20_000
# Per query: what DuckDB may hold for sorts and hash tables on the box's own connection (the one
# memory cap DuckDB scopes to a connection), what the whole database may add while it runs, and
# how much the process may grow before the watchdog stops it.
OPERATOR_MEMORY = "256MB"
MEMORY_BYTES = 512 << 20
PROCESS_GROWTH_BYTES = 1 << 30
THREADS = 1
# PostgreSQL: the role a query runs as (may read the explore views only; migration 0015) and
# what each of its sorts and hash tables may hold before it spills to disk.
EXPLORE_ROLE = "leadcore_explore"
WORK_MEM = "64MB"


def _catalogue_names(cur) -> set[str]:
    """The database's own tables and views (information_schema: the same on both engines)."""
    rows = cur.execute("SELECT table_name FROM information_schema.tables"
                       " WHERE table_schema = current_schema()").fetchall()
    return {r[0].lower() for r in rows}


def _check_tables(tree: exp.Expression) -> None:
    """Every table is a documented view or a CTE visible in the scope that uses it; a name
    DuckDB cannot bind there would be read as a file."""
    seen: set[int] = set()
    for scope in traverse_scope(tree):
        ctes = {name.lower() for name in scope.cte_sources}
        for table in scope.tables:
            seen.add(id(table))
            if not isinstance(table.this, exp.Identifier):
                raise no_table_functions()
            if table.db or table.catalog:
                raise QueryRefused(_("Use the view names without a schema: {views}.").format(views=views_text()))
            if table.name.lower() not in VIEWS | ctes:
                raise QueryRefused(_("{name} is not one of the documented views ({views}).").format(
                    name=table.name, views=views_text()))
    if any(id(t) not in seen for t in tree.find_all(exp.Table)):
        raise QueryRefused(_("The query uses a table where it cannot be checked; query the views: {views}.")
                      .format(views=views_text()))


def _check_shape(tree: exp.Expression, catalogue: set[str]) -> None:
    """sqlglot's reading: one SELECT, no INTO, no CTE named like a table of the database."""
    if not isinstance(tree, (exp.Select, exp.SetOperation)):
        raise QueryRefused(_("Only a SELECT (or WITH ... SELECT) query is allowed here."))
    if any(isinstance(node, exp.Into) for node in tree.walk()):
        raise QueryRefused(_("SELECT ... INTO would create a table; only reading is allowed."))
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    clash = sorted(ctes & (catalogue - VIEWS))
    if clash:
        raise QueryRefused(_("Name your WITH query differently: {name} is a table of the database.")
                      .format(name=clash[0]))
    _check_tables(tree)


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


def _check_with_duckdb(sql: str) -> None:
    """DuckDB's own reading of the text we will run."""
    try:
        with parser() as reader:
            statements = reader.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(_("The query could not be read: {error}").format(error=str(error).strip())) from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise QueryRefused(_("Only a single SELECT query is allowed here."))
    check_tree(sql)


def _for_postgres(tree: exp.Expression) -> str:
    """The checked tree as PostgreSQL reads it. Table and WITH names in lower case (DuckDB
    matches them in any case, quoted or not, and the checks compared them so); GROUP BY ALL
    spelled out, as PostgreSQL 15 lacks it: the select list's items without an aggregate."""
    tree = tree.copy()
    for name in [t.this for t in tree.find_all(exp.Table)] + [c.args["alias"].this for c in tree.find_all(exp.CTE)]:
        if isinstance(name, exp.Identifier):
            name.set("this", name.this.lower())
    for select in tree.find_all(exp.Select):
        group = select.args.get("group")
        if group is not None and group.args.get("all"):
            keys = [exp.Literal.number(i + 1) for i, item in enumerate(select.expressions)
                    if not item.find(exp.AggFunc, exp.Window)]
            select.set("group", exp.Group(expressions=keys) if keys else None)
    return tree.sql(dialect="postgres", comments=False)


def check_sql(cur, text: str, cap: int = ROW_CAP) -> str:
    """The SQL that will run for `text` (capped at cap + 1 rows), or QueryRefused saying why."""
    if not text or not text.strip():
        raise QueryRefused(_("Type a SELECT query over the documented views."))
    if len(text) > SQL_MAX_CHARS:
        raise QueryRefused(_("The query is longer than {n} characters.").format(n=f"{SQL_MAX_CHARS:,}"))
    try:
        trees = [t for t in sqlglot.parse(text, read="duckdb") if t is not None]
    except sqlglot.errors.SqlglotError as error:
        first = str(error).splitlines()[0] if str(error) else ""
        raise QueryRefused(_("The query could not be read: {error}").format(error=first)) from None
    if len(trees) != 1:
        raise QueryRefused(_("Only one statement at a time, please (found {n}).").format(n=len(trees)))
    try:
        _check_shape(trees[0], _catalogue_names(cur))
        _check_with_duckdb(text)            # refusals name things as the person wrote them
        capped = _capped(trees[0], cap)
        sql = capped.sql(dialect="duckdb", comments=False)
        _check_with_duckdb(sql)             # and what runs is what was checked
        if db.engine(cur) == "postgres":    # the same tree, as PostgreSQL spells it (module doc)
            sql = _for_postgres(capped)
    except QueryRefused:
        raise
    except Exception:                       # a check that trips over odd SQL fails closed
        log.exception("The SQL box could not check a query")
        raise QueryRefused(_("The query could not be checked; write it more plainly.")) from None
    return sql


def _confinement(cur) -> tuple[str, ...]:
    """The settings of the SQL box's own cursor and transaction: DuckDB's per-connection memory
    cap; on PostgreSQL the read-only role (whose missing is reported as such by read_only) and
    the per-operation memory."""
    if db.engine(cur) == "postgres":
        return (f"SET LOCAL ROLE {EXPLORE_ROLE}", f"SET LOCAL work_mem = '{WORK_MEM}'")
    return (f"SET operator_memory_limit = '{OPERATOR_MEMORY}'",)


def run_sql(cur, user: User, text: str, cap: int = ROW_CAP, timeout: float = TIMEOUT_S) -> ExploreResult:
    """Run the SQL box's text for an explorer: refused (QueryRefused) unless one SELECT over the
    explore views within the allow-lists; at most `cap` rows; stopped (QueryFailed) after
    `timeout` seconds or when it needs more memory than the caps above."""
    require_explorer(user)
    sql = check_sql(cur, text, cap)
    with sql_box_limits(cur, MEMORY_BYTES, THREADS, wait=timeout):
        frame = execute_read_only(cur, sql, None, timeout, memory_budget=PROCESS_GROWTH_BYTES,
                                  local_settings=_confinement(cur))
    return ExploreResult(frame.head(cap), len(frame) > cap)
