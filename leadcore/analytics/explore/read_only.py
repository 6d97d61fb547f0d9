"""Running one read of Explore's (builder or SQL box): on a cursor of its own, in a read-only
transaction that is rolled back, interrupted after a timeout."""
from __future__ import annotations

import threading

import duckdb
import pandas as pd

from leadcore.errors import LeadcoreError
from leadcore.i18n import _

__all__ = ["QueryFailed", "execute_read_only"]


class QueryFailed(LeadcoreError):
    """The query ran and DuckDB stopped it: an error in it, or it took too long."""


def execute_read_only(cur: duckdb.DuckDBPyConnection, sql: str, params: dict | None,
                      timeout: float) -> pd.DataFrame:
    """Run one read on a cursor of its own (an interrupt hits nothing else), in a read-only
    transaction that is rolled back, stopped after `timeout` seconds."""
    box = cur.cursor()
    timer = threading.Timer(timeout, box.interrupt)
    try:
        box.execute("SET python_enable_replacements = false")   # no Python variables as tables
        box.execute("BEGIN TRANSACTION READ ONLY")
        timer.start()
        try:
            return box.execute(sql, params or {}).df()
        except duckdb.InterruptException:
            raise QueryFailed(_("The query took longer than {s:g} seconds and was stopped. "
                                "Filter or group more, or ask for fewer rows.").format(s=timeout)) from None
        except duckdb.Error as error:
            raise QueryFailed(_("The query failed: {error}").format(error=str(error).strip())) from None
    finally:
        timer.cancel()
        try:
            box.execute("ROLLBACK")
        except duckdb.Error:
            pass
        box.close()
