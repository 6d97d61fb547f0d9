"""Moving a row up or down in a list the dealership orders by hand (sources, completion reasons)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import duckdb

from leadcore import audit, auth, db, roles
from leadcore.errors import NotFound
from leadcore.i18n import _

if TYPE_CHECKING:
    from leadcore.auth import Actor

# table -> its display order; table names cannot be bound as parameters, so only these are allowed
ORDERED_TABLES = {"sources": "position, name", "completion_reasons": "position, id"}


def ordered_ids(cur: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    order = ORDERED_TABLES[table]
    return [r[0] for r in cur.execute(f"SELECT id FROM {table} ORDER BY {order}").fetchall()]


def move(cur: duckdb.DuckDBPyConnection, table: str, row_id: int, steps: int) -> list[int]:
    """Move the row `steps` places (-1 up, +1 down, clamped at the ends) and number the list
    1..n again; returns the new order. Run it inside the caller's transaction."""
    ids = ordered_ids(cur, table)
    old = ids.index(row_id)
    new = max(0, min(len(ids) - 1, old + steps))
    ids.insert(new, ids.pop(old))
    for position, moved_id in enumerate(ids, start=1):
        cur.execute(f"UPDATE {table} SET position = ? WHERE id = ? AND position <> ?",
                    [position, moved_id, position])
    return ids


def next_position(cur: duckdb.DuckDBPyConnection, table: str) -> int:
    return cur.execute(f"SELECT coalesce(max(position), 0) + 1 FROM {table}").fetchall()[0][0]


def move_audited(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, table: str, area: str,
                 row_id: int, steps: int) -> list[int]:
    """`move` as one unit of work of a settings editor, with an audit row when the order changed."""
    def work(c: duckdb.DuckDBPyConnection) -> list[int]:
        acting = auth.acting(c, user, roles.EDIT_SETTINGS)
        before = ordered_ids(c, table)
        if row_id not in before:
            raise NotFound(_("This entry does not exist any more."))
        steps_ = max(-len(before), min(len(before), int(steps)))
        after = move(c, table, row_id, steps_)
        if after != before:
            audit.record(c, acting, now, area, row_id, "move", before, after)
        return after

    return db.write(cur, work)
