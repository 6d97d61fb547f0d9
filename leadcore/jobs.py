"""The background jobs, listed once: the server's scheduler thread runs them every minute and
`python -m leadcore jobs` (for cron, when no server runs) runs them once.

- escalation: the sweep that records reminders and escalations and queues their mails;
- intake_folder: takes in the lead files that arrived in the intake folder;
- nightly_backup: once a night, a backup of the database, keeping the newest few;
- outbox: sends the queued mails, when SMTP is configured (otherwise they wait, shown in Settings).

Over PostgreSQL several app servers serve one dealer group: the first three are the group's jobs
and run on one server only, the leader (leader.py); every server sends from the outbox, whose
claims never hand one mail to two servers.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import duckdb

from leadcore import db, process
from leadcore.admin import backup
from leadcore.intake.folder import poll_folder
from leadcore.leads import escalation
from leadcore.mail import outbox
from leadcore.mail.smtp import SmtpConfig

Job = Callable[[duckdb.DuckDBPyConnection, datetime], object]
# Run by the group's leader only (leader.py): two servers sweeping or polling one folder at once
# would only collide; one backup of the group is enough.
ONCE_PER_GROUP = frozenset({"escalation", "intake_folder", "nightly_backup"})


def sweep_if_due(cur: duckdb.DuckDBPyConnection, now: datetime,
                 min_interval: float = 60.0) -> escalation.SweepResult | None:
    """Sweep unless this process swept less than `min_interval` seconds ago or is sweeping now
    (the page-load sweep of SPEC section 4 is throttled so; the scheduler passes 0)."""
    state = process.PROCESS
    if time.monotonic() - state.last_sweep < min_interval or not state.sweep_lock.acquire(blocking=False):
        return None
    try:
        result = escalation.sweep(cur, now)
        state.last_sweep = time.monotonic()
        return result
    finally:
        state.sweep_lock.release()


def sweep_on_page_load(cur: duckdb.DuckDBPyConnection, now: datetime,
                       min_interval: float = 60.0) -> escalation.SweepResult | None:
    """SPEC section 4's sweep on page load, throttled to once per `min_interval` seconds per
    process; DuckDB only.

    Over PostgreSQL a page load never sweeps: some server of the group always runs the
    scheduler (a page load means one is up, and its scheduler takes the group's lock when
    nobody holds it), so the leader sweeps every minute anyway. On the other servers a sweep
    would race the leader's over the same rows (SERIALIZABLE: one of them retried), and on the
    leader it would only repeat its own tick, each time on someone's click."""
    if db.engine(cur) == "postgres":
        return None
    return sweep_if_due(cur, now, min_interval)


def _escalation(cur: duckdb.DuckDBPyConnection, now: datetime) -> escalation.SweepResult | None:
    return sweep_if_due(cur, now, min_interval=0)


def background_jobs(smtp: SmtpConfig | None) -> dict[str, Job]:
    """Every job of a server, in the order one tick runs them."""
    jobs: dict[str, Job] = {"escalation": _escalation, "intake_folder": poll_folder,
                            "nightly_backup": backup.nightly_backup}
    if smtp is not None:
        jobs["outbox"] = lambda cur, now: outbox.send_due(cur, now, smtp)
    return jobs
