"""Lead sources (mobile.de, AutoScout24, website form, phone...) in their configured order."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Source:
    id: int
    name: str
    channel: str
    active: bool
    position: int


def list_sources(cur: duckdb.DuckDBPyConnection, active_only: bool = True) -> list[Source]:
    rows = cur.execute(
        "SELECT id, name, channel, active, position FROM sources"
        + (" WHERE active" if active_only else "") + " ORDER BY position, name"
    ).fetchall()
    return [Source(*r) for r in rows]
