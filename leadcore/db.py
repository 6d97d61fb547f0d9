"""The database connection (DuckDB by default, PostgreSQL when LEADCORE_DATABASE_URL says so),
numbered migrations and the one way to write: a retried transaction."""
from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TypeVar

import duckdb

from leadcore import postgres, process
from leadcore.errors import Conflict, DatabaseBusy, LeadcoreError

# Both engines' errors, and bulk rows in (registered Arrow on DuckDB, COPY on PostgreSQL).
from leadcore.postgres import IntegrityError, RetryableError, engine, insert_rows, staged  # noqa: F401

# The folder holding app.py. Relative paths in the configuration mean "in the project", never
# "wherever the server was started": a server started elsewhere must not quietly open (and
# create) an empty database there, which then only says "the username or password is wrong".
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = Path("data") / "leadcore.duckdb"
T = TypeVar("T")
# How long a unit of work waits for the writer turn (process.PROCESS.writer, see write()). Long
# units of work (an intake batch, re-deriving every open lead's due times) hold it for seconds;
# a click waits that long rather than fail.
WRITER_WAIT = 60.0
log = logging.getLogger("leadcore.db")


def project_path(configured: str | Path) -> Path:
    """A configured path: absolute as given (~ expanded), relative under the project root."""
    path = Path(configured).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def database_path() -> Path:
    """The database file: LEADCORE_DB, else data/leadcore.duckdb; relative to the project root."""
    configured = os.environ.get("LEADCORE_DB") or DEFAULT_DB_PATH
    if postgres.is_url(str(configured)):
        # Taken as a path it would quietly create an empty DuckDB file in a folder "postgresql:".
        raise LeadcoreError("LEADCORE_DB names a DuckDB file; a PostgreSQL database goes in LEADCORE_DATABASE_URL.")
    return project_path(configured)


def database_url() -> str | None:
    """LEADCORE_DATABASE_URL when it names a PostgreSQL database (a dealer group's servers)."""
    url = os.environ.get("LEADCORE_DATABASE_URL", "").strip()
    return url if postgres.is_url(url) else None


def database_name() -> str:
    """What this server serves, for the log and the admins' sidebar (a URL without its password)."""
    url = database_url()
    return postgres.without_password(url) if url else str(database_path())


def skip_locked(cur) -> str:
    """The claim clause for rows several app servers may take at once (the outbox): on
    PostgreSQL a row another server has claimed is skipped, not waited for nor sent twice;
    one DuckDB process claims under db.write's writer turn."""
    return " FOR UPDATE SKIP LOCKED" if engine(cur) == "postgres" else ""


def connect(path: str | Path | None = None):
    """Open (and migrate) the database: a PostgreSQL URL (given, or LEADCORE_DATABASE_URL when no
    path is given) or a DuckDB file. One read-write process per DuckDB file; threads take
    cursor()s of either."""
    url = str(path) if postgres.is_url(path) else (database_url() if path is None else None)
    if url:
        database = postgres.Database(url)
        migrate(database)
        _announce(postgres.without_password(url))
        return database
    target = Path(path) if path is not None else database_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(target))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            holder = re.search(r"PID (\d+)", str(exc))
            who = f" (process {holder.group(1)})" if holder else ""
            raise DatabaseBusy(
                f"The database {target} is in use by another leadcore process{who}, "
                "probably the running app; stop it or use the app instead."
            ) from None
        raise
    # Everything is stored and computed in UTC; the UI converts to the dealership's zone.
    con.execute("SET TimeZone = 'UTC'")
    migrate(con)
    _announce(target)
    return con


def _announce(target: Path | str) -> None:
    # Once per database and process: the server log then says which database the app is serving.
    resolved = target.resolve() if isinstance(target, Path) else target
    state = process.PROCESS
    with state.announce_lock:      # two first sessions of a fresh server may connect at once
        if resolved in state.announced:
            return
        state.announced.add(resolved)
    log.info("Opened the database %s", resolved)


def _migrations(engine_name: str = "duckdb") -> list[tuple[int, str, str]]:
    """One numbered list for both engines: NNNN_name.sql is shared; NNNN_name.postgres.sql (or
    .duckdb.sql) is that engine's own, and replaces the shared file of the same number there."""
    folder = resources.files("leadcore") / "migrations"
    shared, own = {}, {}
    for entry in folder.iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+?)(?:\.(duckdb|postgres))?\.sql", entry.name)
        if not match:
            continue
        number, name, only = int(match.group(1)), match.group(2), match.group(3)
        text = entry.read_text(encoding="utf-8")
        if only is None:
            shared[number] = (number, name, postgres.ddl(text) if engine_name == "postgres" else text)
        elif only == engine_name:
            own[number] = (number, name, text)
    return sorted({**shared, **own}.values())


# Before a migration that makes names unique without regard to case: which (table, column) it
# covers, so existing twins are named to whoever upgrades (DuckDB's own error does not say which).
_UNIQUE_NOCASE = {11: (("users", "username"), ("sources", "name"), ("completion_reasons", "label"))}


def _twins(con: duckdb.DuckDBPyConnection, version: int) -> list[str]:
    found = []
    for table, column in _UNIQUE_NOCASE.get(version, ()):
        for (names,) in con.execute(
                f"SELECT string_agg({column}, ' / ' ORDER BY {column}) FROM {table}"
                f" GROUP BY lower({column}) HAVING count(*) > 1").fetchall():
            found.append(f"{table}.{column} {names}")
    return found


def migrate(con) -> list[str]:
    """Apply the migrations not yet recorded in schema_version, each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()}
    applied = []
    for version, name, sql in _migrations(engine(con)):
        if version in done:
            continue
        twins = _twins(con, version)
        if twins:
            raise RuntimeError(
                f"The database cannot be upgraded to {version:04d}_{name}: these names differ only in "
                f"case ({'; '.join(twins)}). Rename one of each and start again.")
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, now())", [version, name]
            )
            con.execute("COMMIT")
        except IntegrityError as exc:
            con.execute("ROLLBACK")
            # Existing data breaks a new rule (say, two usernames that differ only in case):
            # say which migration and what, rather than a bare constraint error at start-up.
            raise RuntimeError(f"The database cannot be upgraded to {version:04d}_{name}: {exc}. "
                               "Fix the rows named there and start again.") from None
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(f"{version:04d}_{name}")
    return applied


def used_params(sql: str, params: dict) -> dict:
    """The named parameters the statement uses: DuckDB refuses any it does not (shared WHERE
    builders carry parameters for clauses a given statement may leave out)."""
    return {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}


@contextmanager
def transaction(cur: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One unit of work: everything inside commits together or not at all."""
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")


def write(cur: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection], T],
          attempts: int = 4) -> T:
    """Run work(cur) as one unit of work: in a transaction, one writer at a time, run again from
    the start on a write-write conflict.

    `work` is the whole use case: it re-reads the acting user and the rows, checks, and writes;
    checks made before it prove nothing once another writer commits. Why one writer at a time:
    DuckDB's snapshot isolation only sees a conflict with a writer that is still running. A
    transaction that began before another committed reads the old row, and its update of that
    row then succeeds (two "completed" events for one lead). Taking the writer turn BEFORE the
    transaction begins gives every unit of work a snapshot holding all earlier commits. One
    process writes a DuckDB file, so a lock in this process is the whole story; reads on other
    cursors go on meanwhile.
    """
    # On PostgreSQL every unit of work is SERIALIZABLE across all app servers (postgres.BEGIN):
    # no turn to take here, and a transaction that lost a race runs again; a busy group needs
    # more attempts than one DuckDB process where only a still-running writer can collide.
    on_postgres = engine(cur) == "postgres"
    attempts = max(attempts, 10) if on_postgres else attempts
    for attempt in range(attempts):
        writer = None if on_postgres else process.PROCESS.writer
        if writer is not None and not writer.acquire(timeout=WRITER_WAIT):
            raise Conflict(_busy())
        try:
            with transaction(cur):
                return work(cur)
        except RetryableError:
            if attempt == attempts - 1:
                raise Conflict(
                    "Someone else changed the same data at the same moment; please try again."
                ) from None
        finally:
            if writer is not None:
                writer.release()
        time.sleep(random.uniform(0.005, 0.03) * (attempt + 1))   # jitter: no lockstep
    raise AssertionError("unreachable")


def _busy() -> str:
    return "The database is busy with a long change (an import or a settings change); try again in a minute."
