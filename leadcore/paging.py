"""Keyset paging: one page of rows at a time, straight from SQL, at any table size."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd


@dataclass(frozen=True)
class Page:
    rows: pd.DataFrame
    next_after: tuple | None   # the key of the last row, when more rows follow


def fetch_page(cur: duckdb.DuckDBPyConnection, *, select: str, where: str, params: dict,
               order: tuple[str, ...], key_columns: tuple[str, ...], after: tuple | None,
               page_size: int) -> Page:
    """Rows of `select` matching `where`, ordered by `order`, strictly after the key `after`.

    `order` are SQL expressions (ascending) and `key_columns` the result columns holding
    their values; the last one must be unique (an id) so no row is skipped or repeated.
    Parameters are named (`$name`); the page key binds as $after0, $after1, ...
    """
    sql_where, sql_params = where, dict(params)
    if after is not None:
        keys = [f"$after{i}" for i in range(len(order))]
        sql_where = f"({where}) AND ({', '.join(order)}) > ({', '.join(keys)})"
        sql_params.update({k[1:]: v for k, v in zip(keys, after)})
    rows = cur.execute(
        f"{select} WHERE {sql_where} ORDER BY {', '.join(order)} LIMIT {int(page_size) + 1}",
        sql_params,
    ).df()
    if len(rows) <= page_size:
        return Page(rows.reset_index(drop=True), None)
    rows = rows.iloc[:page_size].reset_index(drop=True)
    last = rows.iloc[-1]
    return Page(rows, tuple(_plain(last[c]) for c in key_columns))


def _plain(value):
    """numpy/pandas scalars back to Python values DuckDB binds as parameters."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value
