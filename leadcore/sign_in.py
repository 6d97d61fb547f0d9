"""Signing in: the password checked by leadcore.auth, throttled per username and per client so
that guessing does not pay, with a lock an admin lifts (audit-logged)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import duckdb

from leadcore import audit, auth, db, roles
from leadcore.auth import User, authenticate
from leadcore.errors import LeadcoreError
from leadcore.i18n import _

# --- throttling ------------------------------------------------------------------------------
# Failures in a row that cost nothing: people mistype. From the FREE_FAILURES-th on, every
# failure makes the next attempt wait twice as long (30 s, 1 min, 2 min ... at most 15 min);
# after LOCK_AFTER failures the username is locked until an admin unlocks it.
FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(minutes=15)
LOCK_AFTER = 20
log = logging.getLogger("leadcore.auth")


class SignInThrottled(LeadcoreError):
    """Too many failed sign-ins: refused before the password is checked. `until` is when the next
    attempt is heard; None means the username is locked until an admin unlocks it."""

    def __init__(self, message: str, until: datetime | None):
        super().__init__(message)
        self.until = until


def _username_key(username: str) -> str:
    return username.strip().lower()


def delay_after(failures: int) -> timedelta:
    """How long the next attempt waits after `failures` failures in a row."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** (failures - FREE_FAILURES), LONGEST_DELAY)


def _refusal(cur: duckdb.DuckDBPyConnection, now: datetime, keys: list[tuple[str, str]]) -> None:
    """SignInThrottled when the username is locked or either key must still wait."""
    (_u, username), (_c, client) = keys
    rows = cur.execute(
        "SELECT kind, blocked_until, locked_at FROM sign_in_attempts"
        " WHERE kind = 'username' AND subject = ? OR kind = 'client' AND subject = ?",
        [username, client]).fetchall()
    if any(locked is not None for _kind, _until, locked in rows):
        raise SignInThrottled(_("This username is locked after too many failed sign-ins; an admin can "
                                "unlock it in Settings → Users."), None)
    waits = [until for _kind, until, _locked in rows if until is not None and until > now]
    if waits:
        raise SignInThrottled(_("Too many failed sign-ins; wait a moment before trying again."), max(waits))


def _count_failure(cur: duckdb.DuckDBPyConnection, now: datetime, kind: str, subject: str) -> int:
    """One more failure for this key; returns the failures in a row, this one included."""
    failures = cur.execute(
        """
        INSERT INTO sign_in_attempts (kind, subject, failures, last_failure_at) VALUES (?, ?, 1, ?)
        ON CONFLICT (kind, subject) DO UPDATE
            SET failures = sign_in_attempts.failures + 1, last_failure_at = excluded.last_failure_at
        RETURNING failures
        """, [kind, subject, now]).fetchall()[0][0]
    wait = delay_after(failures)
    locked = kind == "username" and failures >= LOCK_AFTER
    cur.execute(
        "UPDATE sign_in_attempts SET blocked_until = ?, locked_at = CASE WHEN ? THEN coalesce(locked_at, ?)"
        " ELSE locked_at END WHERE kind = ? AND subject = ?",
        [now + wait if wait else None, locked, now, kind, subject])
    if locked and failures == LOCK_AFTER:
        audit.record(cur, None, now, "sign_in", subject, "lock", {"failures": failures - 1},
                     {"failures": failures, "locked": True})
    return failures


def attempt(cur: duckdb.DuckDBPyConnection, now: datetime, username: str, password: str,
            client: str) -> User | None:
    """authenticate() behind the throttle: the user, or None for wrong credentials.

    Raises SignInThrottled (without checking the password) while the username or the client
    `client` (an address, or the browser session where there is none) must wait or is locked.
    """
    keys = [("username", _username_key(username)), ("client", client)]
    _refusal(cur, now, keys)
    user = authenticate(cur, username, password)

    def record(c: duckdb.DuckDBPyConnection) -> None:
        if user is not None:
            c.execute("DELETE FROM sign_in_attempts WHERE kind = 'username' AND subject = ?"
                      " OR kind = 'client' AND subject = ?", [keys[0][1], client])
            return
        failures = [_count_failure(c, now, kind, subject) for kind, subject in keys]
        log.warning("Failed sign-in for username %r from %s (%d and %d in a row)",
                    keys[0][1], client, *failures)

    db.write(cur, record)
    return user


def locked_usernames(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Lower-cased usernames locked after too many failed sign-ins."""
    return [r[0] for r in cur.execute(
        "SELECT subject FROM sign_in_attempts WHERE kind = 'username' AND locked_at IS NOT NULL"
        " ORDER BY subject").fetchall()]


def unlock(cur: duckdb.DuckDBPyConnection, actor: User, now: datetime, username: str) -> None:
    """An admin lets a locked username sign in again (its failures start from zero)."""
    subject = _username_key(username)

    def work(c: duckdb.DuckDBPyConnection) -> None:
        auth.acting(c, actor, roles.MANAGE_ADMINS)
        rows = c.execute("DELETE FROM sign_in_attempts WHERE kind = 'username' AND subject = ?"
                         " RETURNING failures, locked_at", [subject]).fetchall()
        if rows:
            audit.record(c, actor, now, "sign_in", subject, "unlock",
                         {"failures": rows[0][0], "locked": rows[0][1] is not None}, {"failures": 0})

    db.write(cur, work)
