"""Completion reasons: system ones ship with the product, each with an outcome for the win rate."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class CompletionReason:
    id: int
    label: str
    outcome: str      # won, lost or neutral
    is_system: bool
    hidden: bool


def list_reasons(cur: duckdb.DuckDBPyConnection, include_hidden: bool = False) -> list[CompletionReason]:
    rows = cur.execute(
        "SELECT id, label, outcome, is_system, hidden FROM completion_reasons"
        + ("" if include_hidden else " WHERE NOT hidden") + " ORDER BY position, id"
    ).fetchall()
    return [CompletionReason(*r) for r in rows]
