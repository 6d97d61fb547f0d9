"""Background work of the server process: one thread, started once, running jobs every minute
(LEADCORE_SCHEDULER_INTERVAL seconds, for tests that cannot wait a minute).

Jobs get their own cursor on the shared connection (never the pages' cursors) and the clock.
A failing job is logged and retried on the next tick; it never stops the thread. The group's
jobs (jobs.ONCE_PER_GROUP) run only while this server leads the group (leader.py), which each
tick asks first: one DuckDB server always leads, one of several PostgreSQL servers does.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime

import duckdb

from leadcore import i18n, leader
from leadcore.admin import settings
from leadcore.jobs import ONCE_PER_GROUP

log = logging.getLogger("leadcore.scheduler")
Job = Callable[[duckdb.DuckDBPyConnection, datetime], object]
DEFAULT_INTERVAL = 60.0
# What run_once reports for a group job another server runs.
ANOTHER_SERVER = "another server of the group runs it"


def tick_interval() -> float:
    """Seconds between ticks: LEADCORE_SCHEDULER_INTERVAL, else a minute."""
    try:
        seconds = float(os.environ.get("LEADCORE_SCHEDULER_INTERVAL") or DEFAULT_INTERVAL)
    except ValueError:
        return DEFAULT_INTERVAL
    return seconds if seconds > 0 else DEFAULT_INTERVAL


class Scheduler:
    def __init__(self, con: duckdb.DuckDBPyConnection, clock: Callable[[], datetime],
                 jobs: dict[str, Job], interval: float | None = None,
                 leadership: leader.Leadership | None = None):
        self._con, self._clock, self._jobs = con, clock, jobs
        self._interval = interval if interval is not None else tick_interval()
        self._leadership = leadership or leader.for_database(con)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leadcore-scheduler", daemon=True)

    def start(self) -> Scheduler:
        log.info("Background jobs every %g s", self._interval)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._leadership.resign()

    def run_once(self) -> dict[str, object]:
        results = {}
        leads = self._leadership.leads()
        cur = self._con.cursor()
        try:
            # What jobs write for people to read (intake's timeline events, forwarded copies) is
            # in the dealership's language; mails to users choose their own (escalation).
            with i18n.using(settings.dealership_language(cur)):
                for name, job in self._jobs.items():
                    if name in ONCE_PER_GROUP and not leads:
                        results[name] = ANOTHER_SERVER
                        continue
                    try:
                        results[name] = job(cur, self._clock())
                    except Exception:  # noqa: BLE001 - a job's failure must not end the thread
                        log.exception("scheduled job %s failed", name)
        finally:
            cur.close()      # one cursor per tick, closed with it
        return results

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - PostgreSQL restarting, say: the next tick tries again
                log.exception("scheduler tick failed")
            self._stop.wait(self._interval)
