"""Which app server runs the group's background jobs (the escalation sweep, intake-folder
polling, the nightly backup): exactly one at a time, whichever holds the group's lock.

On DuckDB there is one server process (it alone holds the file), so it always leads. On
PostgreSQL every server's scheduler asks `leads()` on each tick: the server holding the group's
advisory lock goes on leading; the others try to take the lock, so when the leader dies (and
PostgreSQL ends its session, at once for a crashed process, within half a minute for a vanished
machine) another server leads from its next tick on. The outbox is not a group job: every
server sends, its claims skip rows another server has claimed (db.skip_locked).
"""
from __future__ import annotations

import logging
from typing import Protocol

from leadcore import db, postgres

log = logging.getLogger("leadcore.leader")
# The advisory lock's key: any fixed 64-bit number no other program takes in leadcore's database.
GROUP_JOBS_LOCK = 0x1EADC0DE_10B5
GROUP_JOBS = "group-jobs"      # pg_stat_activity shows "leadcore group-jobs <host>:<pid>"


class Leadership(Protocol):
    def leads(self) -> bool:
        """Whether this server runs the group's jobs now (asked once per scheduler tick)."""

    def resign(self) -> None:
        """Stop leading (the server stops); another server takes over."""


class OnlyServer:
    """DuckDB: the one process that holds the database file leads."""

    def leads(self) -> bool:
        return True

    def resign(self) -> None:
        pass


class GroupLock:
    """PostgreSQL: the server holding the group's advisory lock leads."""

    def __init__(self, url: str) -> None:
        self._lock = postgres.SessionLock(url, GROUP_JOBS_LOCK, GROUP_JOBS)

    def leads(self) -> bool:
        was = self._lock.held
        now = self._lock.hold()
        if now != was:      # the log says when this server took over, and when it stopped
            log.info("%s the group's background jobs (%s)", "This server now runs" if now else
                     "This server no longer runs", self._lock.application_name)
        return now

    def resign(self) -> None:
        self._lock.release()


def for_database(con) -> Leadership:
    """The leadership fitting the connection's engine."""
    if db.engine(con) == "postgres":
        database = getattr(con, "database", con)        # a Database, or one of its cursors
        return GroupLock(database.url)
    return OnlyServer()
