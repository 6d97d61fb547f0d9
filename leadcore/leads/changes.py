"""Telling that leads changed without reading them: pages keep what they computed from the
leads (the list's total, the Dashboard's aggregates) until this moves."""
from __future__ import annotations

import duckdb


def leads_version(cur: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Changes whenever a lead does: every change of a lead (created, worked, handed over,
    completed, reopened, taken in) appends to its events, and removing leads removes theirs.
    Cheap: ~0.3 ms at 2,000,000 events. Not covered: the clock (traffic lights move by
    themselves) and due times re-derived after a settings change; callers bound those by time."""
    count, newest = cur.execute("SELECT count(*), coalesce(max(id), 0) FROM lead_events").fetchall()[0]
    return count, newest
