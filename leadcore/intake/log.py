"""The intake log as the Intake page reads it: newest first, one keyset page at a time."""
from __future__ import annotations

import duckdb

from leadcore import auth, roles
from leadcore.auth import Actor
from leadcore.paging import Page, fetch_page


def intake_log_page(cur: duckdb.DuckDBPyConnection, actor: Actor, after: tuple | None = None,
                    page_size: int = 50, outcome: str | None = None) -> Page:
    """Rows: received_at, file_name, part (the attachment, in a mail of several leads), outcome,
    reason, lead_id, source, unknown_sender. For those who may take in lead files (file names and
    reasons name customers)."""
    auth.acting(cur, actor, roles.INTAKE)
    return fetch_page(
        cur,
        # Newest first: the paging key is the negated id, since fetch_page orders ascending.
        select="SELECT -g.id AS newest, g.id, g.received_at, g.file_name, coalesce(g.part, '') AS part, g.outcome, coalesce(g.reason, '') AS reason,"
               " g.lead_id, coalesce(s.name, '') AS source, g.flagged_unknown_sender AS unknown_sender"
               " FROM intake_log g LEFT JOIN sources s ON s.id = g.source_id",
        where="$outcome::VARCHAR IS NULL OR g.outcome = $outcome",
        params={"outcome": outcome},
        order=("-g.id",),
        key_columns=("newest",),
        after=after,
        page_size=page_size,
    )


def count_intake_log(cur: duckdb.DuckDBPyConnection, actor: Actor, outcome: str | None = None) -> int:
    auth.acting(cur, actor, roles.INTAKE)
    return cur.execute("SELECT count(*) FROM intake_log WHERE ?::VARCHAR IS NULL OR outcome = ?",
                       [outcome, outcome]).fetchall()[0][0]
