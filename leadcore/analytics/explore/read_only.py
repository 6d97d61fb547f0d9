"""Running one read of Explore's (builder or SQL box): on a cursor of its own, in a read-only
transaction that is rolled back, interrupted by a watchdog after a timeout or (for the SQL box)
when the process grew by more than a memory budget while it ran. On PostgreSQL the server also
stops it itself (statement_timeout), so a read ends even if this process cannot interrupt it."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence

import pandas as pd

from leadcore import db
from leadcore.errors import LeadcoreError
from leadcore.i18n import _
from leadcore.postgres import Error, Interrupted, OutOfMemory

__all__ = ["QueryFailed", "execute_read_only", "resident_bytes"]

_TICK_S = 0.02


class QueryFailed(LeadcoreError):
    """The query ran and the database stopped it: an error in it, or it took too long or too much."""


def resident_bytes() -> int | None:
    """The process's resident memory (Linux /proc), None where that cannot be read."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class _Watchdog(threading.Thread):
    """Interrupts `box` once the time is up or the process grew by more than `budget` bytes.
    DuckDB stops at its next chunk, so this bounds work that proceeds chunk by chunk; what one
    call could allocate at once is kept out by the SQL box's allow-list. (PostgreSQL's cursor
    interrupts by cancelling the statement, see postgres.Cursor.interrupt.)"""

    def __init__(self, box, timeout: float, budget: int | None):
        super().__init__(daemon=True, name="explore-watchdog")
        self.box, self.timeout, self.budget = box, timeout, budget
        self.done, self.reason = threading.Event(), ""

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout
        start = resident_bytes() if self.budget is not None else None
        while not self.done.wait(_TICK_S):
            if time.monotonic() >= deadline:
                self.reason = "time"
            elif start is not None and (resident_bytes() or 0) - start > self.budget:
                self.reason = "memory"
            if self.reason:
                self.box.interrupt()
                return


def _too_much_memory(budget: int | None) -> QueryFailed:
    if budget is None:
        return QueryFailed(_("The query needed more memory than there is and was stopped. "
                             "Filter or group more, or ask for fewer rows."))
    return QueryFailed(_("The query needed more memory than Explore allows and was stopped. "
                         "Filter or group more, or ask for fewer rows."))


def _engine_guards(box, timeout: float) -> tuple[str, ...]:
    """What the engine enforces for one read, set on its cursor inside the transaction."""
    if db.engine(box) == "postgres":
        # The server's own timeout (SET LOCAL ends with the transaction, before the connection
        # goes back to the pool); the watchdog still stops on memory.
        return (f"SET LOCAL statement_timeout = {max(1, round(timeout * 1000))}",)
    return ("SET python_enable_replacements = false",)    # no Python variables as tables


def execute_read_only(cur, sql: str, params: dict | None, timeout: float,
                      local_settings: Sequence[str] = (), memory_budget: int | None = None) -> pd.DataFrame:
    """Run one read on a cursor of its own (an interrupt hits nothing else), in a read-only
    transaction that is rolled back, stopped after `timeout` seconds or once the process grew by
    `memory_budget` bytes. `local_settings` are SET statements for that cursor (and, on
    PostgreSQL, that transaction) alone; one that fails means the database lacks what the
    caller needs (the SQL box's role), said as such."""
    box = cur.cursor()
    watchdog = _Watchdog(box, timeout, memory_budget)
    try:
        box.execute("BEGIN TRANSACTION READ ONLY")
        for statement in _engine_guards(box, timeout):
            box.execute(statement)
        try:
            for statement in local_settings:
                box.execute(statement)
        except Error as error:
            raise QueryFailed(_("The SQL box is not set up on this database ({error}). Whoever runs the "
                                "database can set it up as docs/design.md describes (The Explore SQL box).")
                              .format(error=str(error).strip())) from None
        watchdog.start()
        try:
            return box.execute(sql, params or {}).df()
        except Interrupted:
            if watchdog.reason == "memory":
                raise _too_much_memory(memory_budget) from None
            raise QueryFailed(_("The query took longer than {s:g} seconds and was stopped. "
                                "Filter or group more, or ask for fewer rows.").format(s=timeout)) from None
        except OutOfMemory:
            raise _too_much_memory(memory_budget) from None
        except Error as error:
            raise QueryFailed(_("The query failed: {error}").format(error=str(error).strip())) from None
    finally:
        watchdog.done.set()
        try:
            box.execute("ROLLBACK")
        except Error:
            pass
        box.close()
