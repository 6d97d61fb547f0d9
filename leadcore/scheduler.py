"""Background work of the server process: one thread, started once, running jobs every minute.

Jobs get their own cursor on the shared connection (never the pages' cursors) and the clock.
A failing job is logged and retried on the next tick; it never stops the thread.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

import duckdb

from leadcore import i18n
from leadcore.admin import settings

log = logging.getLogger("leadcore.scheduler")
Job = Callable[[duckdb.DuckDBPyConnection, datetime], object]


class Scheduler:
    def __init__(self, con: duckdb.DuckDBPyConnection, clock: Callable[[], datetime],
                 jobs: dict[str, Job], interval: float = 60.0):
        self._con, self._clock, self._jobs, self._interval = con, clock, jobs, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leadcore-scheduler", daemon=True)

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def run_once(self) -> dict[str, object]:
        results = {}
        cur = self._con.cursor()
        try:
            # What jobs write for people to read (intake's timeline events, forwarded copies) is
            # in the dealership's language; mails to users choose their own (escalation).
            with i18n.using(settings.dealership_language(cur)):
                for name, job in self._jobs.items():
                    try:
                        results[name] = job(cur, self._clock())
                    except Exception:  # noqa: BLE001 - a job's failure must not end the thread
                        log.exception("scheduled job %s failed", name)
        finally:
            cur.close()      # one cursor per tick, closed with it
        return results

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self._interval)
