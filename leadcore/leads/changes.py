"""Telling that leads changed without reading them: pages keep what they computed from the
leads (the list's total, the Dashboard's aggregates) until this moves."""
from __future__ import annotations

import duckdb

from leadcore import db


def leads_version(cur: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Changes whenever a lead does: every change of a lead (created, worked, handed over,
    completed, reopened, taken in) appends to its events, and removing leads removes theirs.
    Cheap: ~0.3 ms at 2,000,000 events. Not covered: the clock (traffic lights move by
    themselves) and due times re-derived after a settings change; callers bound those by time."""
    if db.engine(cur) == "postgres":
        # count(*) is a scan on PostgreSQL (~70 ms at 2,200,000 events, on every rerun): the
        # statistics' count of deleted events stands in for it (updated within a second or so;
        # the callers' time bound covers that), the newest id is an index lookup.
        deleted, newest = cur.execute(
            "SELECT (SELECT coalesce(max(n_tup_del), 0) FROM pg_stat_user_tables WHERE relname = 'lead_events'),"
            " (SELECT coalesce(max(id), 0) FROM lead_events)").fetchall()[0]
        return -deleted, newest
    count, newest = cur.execute("SELECT count(*), coalesce(max(id), 0) FROM lead_events").fetchall()[0]
    return count, newest
