"""The Explore page's SQL box: one SELECT over the documented explore_* views, checked with
sqlglot and again on DuckDB's own parse tree, capped, and run read-only with a timeout."""
from __future__ import annotations

import json
import logging
import re

import duckdb
import sqlglot
from sqlglot import exp

from leadcore.analytics.explore.catalogue import ROW_CAP, VIEWS, ExploreResult, QueryRefused, require_explorer
from leadcore.i18n import _
from leadcore.analytics.explore.read_only import execute_read_only
from leadcore.auth import User

# sqlglot logs a warning for every statement it can only read as a plain command (LOAD, CALL):
# those are refused anyway, the log line is noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

__all__ = ["TIMEOUT_S", "SQL_MAX_CHARS", "check_sql", "run_sql"]

TIMEOUT_S = 5.0
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
    frame = execute_read_only(cur, sql, None, timeout)
    return ExploreResult(frame.head(cap), len(frame) > cap)
