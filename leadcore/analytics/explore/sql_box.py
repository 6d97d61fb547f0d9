"""The Explore page's SQL box: one SELECT over the documented explore_* views, checked with
sqlglot (scopes) and again on DuckDB's own parse tree (scopes and allow-lists, sql_tree), capped,
and run read-only under a time and memory cap (read_only, caps). docs/design.md says why each."""
from __future__ import annotations

import logging

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

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
    views_text,
)
from leadcore.auth import User
from leadcore.i18n import _

log = logging.getLogger(__name__)

__all__ = ["MEMORY_BYTES", "SQL_MAX_CHARS", "TIMEOUT_S", "check_sql", "run_sql"]

TIMEOUT_S = 5.0
SQL_MAX_CHARS = 20_000
# Per query: what DuckDB may hold for sorts and hash tables on the box's own connection (the one
# memory cap DuckDB scopes to a connection), what the whole database may add while it runs, and
# how much the process may grow before the watchdog stops it.
OPERATOR_MEMORY = "256MB"
MEMORY_BYTES = 512 << 20
PROCESS_GROWTH_BYTES = 1 << 30
THREADS = 1


def _catalogue_names(cur) -> set[str]:
    rows = cur.execute("SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"
                       " UNION SELECT sequence_name FROM duckdb_sequences()").fetchall()
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


def _check_with_duckdb(cur, sql: str) -> None:
    """DuckDB's own reading of the text we will run."""
    try:
        statements = cur.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(_("The query could not be read: {error}").format(error=str(error).strip())) from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise QueryRefused(_("Only a single SELECT query is allowed here."))
    check_tree(cur, sql)


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
        _check_with_duckdb(cur, text)       # refusals name things as the person wrote them
        sql = _capped(trees[0], cap).sql(dialect="duckdb", comments=False)
        _check_with_duckdb(cur, sql)        # and what runs is what was checked
    except QueryRefused:
        raise
    except Exception:                       # a check that trips over odd SQL fails closed
        log.exception("The SQL box could not check a query")
        raise QueryRefused(_("The query could not be checked; write it more plainly.")) from None
    return sql


def run_sql(cur, user: User, text: str, cap: int = ROW_CAP, timeout: float = TIMEOUT_S) -> ExploreResult:
    """Run the SQL box's text for an explorer: refused (QueryRefused) unless one SELECT over the
    explore views within the allow-lists; at most `cap` rows; stopped (QueryFailed) after
    `timeout` seconds or when it needs more memory than the caps above."""
    require_explorer(user)
    sql = check_sql(cur, text, cap)
    with sql_box_limits(cur, MEMORY_BYTES, THREADS, wait=timeout):
        frame = execute_read_only(cur, sql, None, timeout, memory_budget=PROCESS_GROWTH_BYTES,
                                  local_settings=(f"SET operator_memory_limit = '{OPERATOR_MEMORY}'",))
    return ExploreResult(frame.head(cap), len(frame) > cap)
