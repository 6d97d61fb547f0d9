"""The timeline of a lead: every event, who and when, newest first."""
from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from leadcore.admin import reasons
from leadcore.auth import User
from leadcore.leads.visibility import require_visible


def timeline(cur: duckdb.DuckDBPyConnection, user: User, lead_id: int,
             now: datetime | None = None) -> pd.DataFrame:
    """Every event of the lead, newest first: when, who, what."""
    require_visible(cur, user, lead_id, now)
    events = cur.execute(
        """
        SELECT e.happened_at, coalesce(u.full_name, 'leadcore') AS who, e.kind, e.detail
        FROM lead_events e LEFT JOIN users u ON u.id = e.user_id
        WHERE e.lead_id = ? ORDER BY e.happened_at DESC, e.id DESC
        """,
        [lead_id],
    ).df()
    completed = events["kind"] == "completed"
    events.loc[completed, "detail"] = events.loc[completed, "detail"].map(_reason_in_language)
    return events


def _reason_in_language(detail: str | None) -> str | None:
    """A completion's detail is "<reason label>: <comment>" as written; a shipped reason's
    label is shown in the reader's language, like everywhere else."""
    if not isinstance(detail, str):
        return detail
    label, colon, comment = detail.partition(": ")
    return reasons.shown_label(label) + colon + comment if label in reasons.SHIPPED_LABELS else detail
