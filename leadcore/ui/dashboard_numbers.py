"""The Dashboard's numbers, kept for the minute they describe.

Its four aggregate queries scan every lead (~90 ms at 1,000,000 leads, most of a run's CPU). The
figures are "as of" a minute (the page shows the moment to the minute), so every run in the same
minute with the same filter, the same view of the leads and unchanged data shares one result:
ten managers watching the same dashboard cost one set of queries a minute, and a click on a
source reuses them (the SQL never filters by it). A new, worked or completed lead, a changed
setting, user or source counts again at once; what the versions do not see (completion reasons
renamed, holidays, a supervisor's team) shows from the next minute.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import duckdb

from leadcore.analytics import dashboard as analytics
from leadcore.analytics.dashboard import Dashboard, DashboardFilter
from leadcore.auth import User
from leadcore.leads import changes
from leadcore.ui import session
from leadcore.ui.kept import Kept

_aggregates: Kept[analytics.Aggregates] = Kept(64)


def as_of(now: datetime) -> datetime:
    """The minute the figures describe."""
    return now.replace(second=0, microsecond=0)


def numbers(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, f: DashboardFilter) -> Dashboard:
    minute = as_of(now)
    # Everyone who sees all leads sees the same numbers; others see their team's.
    viewer = "all leads" if user.sees_all_leads else user.id
    key = (session.database_file(), viewer, replace(f, picked_source=None), minute,
           session.reference().version, changes.leads_version(cur))
    found = _aggregates.get(key, lambda: analytics.aggregates(cur, user, minute, f))
    return analytics.shaped(found, f)
