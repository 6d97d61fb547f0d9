"""Writing demo rows: Arrow tables inserted into DuckDB in chunks, with explicit ids that the
tables' sequences then continue after."""
from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa

from leadcore import db

CHUNK_ROWS = 200_000


def next_id(con: duckdb.DuckDBPyConnection, sequence: str) -> int:
    return con.execute(f"SELECT nextval('{sequence}')").fetchall()[0][0]


def bulk_insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, sequence: str,
                report: Callable[[float, str], None], lo: float, hi: float, message: str) -> None:
    """insert_rows in chunks of CHUNK_ROWS, reporting progress from lo to hi.

    The rows carry explicit ids, consecutive from one nextval of `sequence`; afterwards the
    sequence is set to the highest id (DuckDB 2.0 has setval), so the next single insert in
    the app continues after it.
    """
    total = rows.num_rows
    for offset in range(0, total, CHUNK_ROWS):
        db.insert_rows(con, table, rows.slice(offset, CHUNK_ROWS))
        done = min(total, offset + CHUNK_ROWS)
        report(lo + (hi - lo) * done / total, f"{message} ({done:,} / {total:,})")
    if total:
        top = con.execute(f"SELECT max(id) FROM {table}").fetchall()[0][0]
        con.execute(f"SELECT setval('{sequence}', ?)", [top]).fetchall()
