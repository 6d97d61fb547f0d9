"""The SQL box's second reading: DuckDB's own parse tree (json_serialize_sql) of the exact text
that will run, walked with the scopes DuckDB binds by, against the allow-lists of sql_allowed.

Scopes matter because DuckDB reads a table name it cannot bind (no visible CTE, no table or
view) as a file path: a WITH-name defined inside a subquery and used outside it would otherwise
pass a "every name is a view or a CTE" check and read a file of the server.

The reading is done by an in-memory DuckDB of its own (parsing binds nothing, so it needs no
tables), on either engine: the SQL box speaks DuckDB's SQL on PostgreSQL too (sql_box.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import duckdb

from leadcore.analytics.explore import sql_allowed as allowed
from leadcore.analytics.explore.catalogue import VIEWS, QueryRefused
from leadcore.i18n import _

__all__ = ["check_tree", "no_table_functions", "parser", "views_text"]


@dataclass
class _Walk:
    concat_pieces: int = 0


def views_text() -> str:
    return ", ".join(sorted(VIEWS))


def no_table_functions() -> QueryRefused:
    return QueryRefused(_("Table functions (read_csv, range, unnest...) are not allowed in FROM; "
                          "query the views: {views}.").format(views=views_text()))


def _not_allowed(what: str) -> QueryRefused:
    return QueryRefused(_("{what} is not allowed here.").format(what=what))


@cache
def _parser_database() -> duckdb.DuckDBPyConnection:
    # It reads text and never a file: external access stays off.
    return duckdb.connect(":memory:", config={"enable_external_access": False})


def parser() -> duckdb.DuckDBPyConnection:
    """A cursor of DuckDB's parser for this thread's check (DuckDB cursors are per thread)."""
    return _parser_database().cursor()


def _parse(sql: str) -> dict:
    with parser() as reader:
        tree = json.loads(reader.execute("SELECT json_serialize_sql($q)", {"q": sql}).fetchall()[0][0])
    if tree.get("error"):
        raise QueryRefused(_("The query could not be read: {error}").format(
            error=tree.get("error_message", "")))
    if len(tree["statements"]) != 1:
        raise QueryRefused(_("Only a single SELECT query is allowed here."))
    return tree["statements"][0]["node"]


def check_tree(sql: str) -> None:
    """QueryRefused unless every table DuckDB will bind is a documented view or a CTE visible at
    that place, and every function, expression and FROM item is on the allow-lists."""
    walk = _Walk()
    _node(_parse(sql), frozenset(), walk)
    if walk.concat_pieces > allowed.CONCAT_PIECES:
        raise QueryRefused(_("The query joins more than {n} pieces of text with || or concat.")
                           .format(n=allowed.CONCAT_PIECES))


def _node(node, visible: frozenset[str], walk: _Walk) -> None:
    """Walk any part of the tree; `visible` holds the CTE names (lower case) bound here."""
    if isinstance(node, list):
        for item in node:
            _node(item, visible, walk)
        return
    if not isinstance(node, dict):
        return
    if "class" in node:
        _expression(node, walk)
    elif isinstance(node.get("type"), str):
        _item(node, visible)
    cte_map = node.get("cte_map")
    if isinstance(cte_map, dict) and cte_map.get("map"):
        visible = _ctes(cte_map["map"], visible, walk)
    for key, value in node.items():
        if key != "cte_map":
            _node(value, visible, walk)


def _ctes(entries: list[dict], visible: frozenset[str], walk: _Walk) -> frozenset[str]:
    """Each CTE sees the ones before it (DuckDB binds them in order); the body sees them all."""
    for entry in entries:
        _node(entry.get("value"), visible, walk)
        visible = visible | {entry.get("key", "").lower()}
    return visible


def _item(node: dict, visible: frozenset[str]) -> None:
    kind = node["type"]
    if kind in allowed.CLAUSES:
        return                                  # ORDER BY, LIMIT, DISTINCT: their expressions are walked
    if kind == "RECURSIVE_CTE_NODE":
        raise _not_allowed("WITH RECURSIVE")
    if kind == "TABLE_FUNCTION":
        raise no_table_functions()
    if kind not in allowed.NODES:
        raise _not_allowed(kind.lower().replace("_", " "))
    if kind == "BASE_TABLE":
        name = node.get("table_name", "")
        path = (node.get("qualified_name") or {}).get("path") or [name]
        qualified = node.get("catalog_name") or node.get("schema_name") or len(path) > 1
        if qualified or name.lower() not in VIEWS | visible:
            raise QueryRefused(_("{name} is not one of the documented views ({views}).").format(
                name=name, views=views_text()))


def _expression(node: dict, walk: _Walk) -> None:
    kind = node["class"]
    if kind not in allowed.EXPRESSIONS:
        raise _not_allowed(kind.lower().replace("_", " "))
    if kind == "OPERATOR" and node.get("type") not in allowed.OPERATORS:
        raise _not_allowed(node.get("type", "?").lower().replace("_", " "))
    if kind == "CONSTANT" and len(str((node.get("literal") or {}).get("text", ""))) > allowed.LITERAL_CHARS:
        raise QueryRefused(_("Text in quotes may be at most {n} characters long.").format(n=allowed.LITERAL_CHARS))
    if kind in ("FUNCTION", "WINDOW"):
        _function(node, walk, allowed.FUNCTIONS if kind == "FUNCTION" else allowed.WINDOWS)


def _function(node: dict, walk: _Walk, names: frozenset[str]) -> None:
    name = node.get("function_name", "").lower()
    path = (node.get("qualified_name") or {}).get("path") or [name]
    if node.get("schema") or node.get("catalog") or len(path) > 1 or name not in names:
        raise QueryRefused(_("The function {name} is not allowed here.").format(name=".".join(path)))
    arguments = [a.get("expression") if isinstance(a, dict) and "expression" in a else a
                 for a in node.get("arguments", node.get("children", []))]
    if name in allowed.CONCATENATION:
        # a || b || c nests: count the leaves of the whole chain once.
        walk.concat_pieces += sum(1 for a in arguments if not _is_concatenation(a))
    if name in allowed.REPLACING:
        old, new = (_string_literal(arguments[i]) if len(arguments) > i else None for i in (1, 2))
        if old is None or new is None or len(new) > len(old):
            raise QueryRefused(_("replace needs quoted texts, the new one no longer than the old one."))
    if name in allowed.PADDING:
        index, largest = allowed.PADDING[name]
        size = _integer_literal(arguments[index] if len(arguments) > index else None)
        if size is None or size > largest:
            raise QueryRefused(_("{name} needs a length of at most {n} written as a number.")
                               .format(name=name, n=largest))


def _is_concatenation(node) -> bool:
    return (isinstance(node, dict) and node.get("class") == "FUNCTION"
            and node.get("function_name", "").lower() in allowed.CONCATENATION)


def _string_literal(node) -> str | None:
    if isinstance(node, dict) and node.get("class") == "CONSTANT":
        literal = node.get("literal") or {}
        if literal.get("kind") == "STRING":
            return literal["text"]
    return None


def _integer_literal(node) -> int | None:
    if isinstance(node, dict) and node.get("class") == "CONSTANT":
        literal = node.get("literal") or {}
        if literal.get("kind") == "INTEGER":
            return int(literal["text"])
    return None
