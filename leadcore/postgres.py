"""The PostgreSQL backend: what differs from DuckDB, in one place (ARCHITECTURE: "the differences
live in one adapter beside db.py").

leadcore's services and read models write their SQL once, in the dialect both engines share, with
DuckDB's parameter styles (`?` and `$name`) and the Python DB-API surface of a DuckDB cursor
(`execute(...).fetchall()`, `.df()`, `.description`, `cursor()`). This module gives PostgreSQL the
same surface over psycopg 3 and a connection pool:

* parameters: `?` becomes `%s`, `$name` becomes `%(name)s`, a literal `%` becomes `%%` (outside
  string literals, quoted names and comments; translated once per statement text and cached);
* functions DuckDB has and PostgreSQL lacks (`epoch_us`, `hour`, `json_extract_string`, ...) are
  created by the PostgreSQL-only migration `0000_duckdb_functions.postgres.sql`;
* DDL types (`BLOB`, `DOUBLE`) are renamed when a migration runs (`ddl`);
* bulk rows (Arrow tables) arrive through `COPY` into a temporary table (`staged`), where DuckDB
  registers the Arrow table as a view;
* errors: `IntegrityError`, `RetryableError` and `Error` cover both engines' exceptions;
* the group's job leader (leader.py) holds a session-level advisory lock (`SessionLock`).

A cursor holds a pooled connection only while a transaction (or a staged table) needs it, and
returns it after every statement otherwise: a hundred signed-in people then share a few
connections, the way they share one DuckDB file.
"""
from __future__ import annotations

import io
import logging
import os
import re
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import duckdb
import pandas as pd
import psycopg
import psycopg.errors
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg_pool import ConnectionPool

IntegrityError = (duckdb.ConstraintException, psycopg.errors.IntegrityError)
# A unit of work lost a race and runs again from the start (db.write).
RetryableError = (duckdb.TransactionException, psycopg.errors.SerializationFailure,
                  psycopg.errors.DeadlockDetected)
Error = (duckdb.Error, psycopg.Error)
# A statement stopped on purpose: interrupt() (DuckDB), or a cancel or statement_timeout (PostgreSQL).
Interrupted = (duckdb.InterruptException, psycopg.errors.QueryCanceled)
OutOfMemory = (duckdb.OutOfMemoryException, psycopg.errors.OutOfMemory)

# Per server: a Streamlit process runs its sessions' reruns on threads of its own; more than this
# many statements at the same moment wait for a connection (PostgreSQL's own limit is 100).
POOL_SIZE = 16
POOL_WAIT = 30.0
WORK_MEM = "32MB"
# Every unit of work is SERIALIZABLE: what DuckDB gets from db.write's one-writer turn (a check
# made inside the transaction still holds at COMMIT), PostgreSQL gets from its predicate locks,
# across every app server. A transaction that lost gets SerializationFailure and runs again.
BEGIN = "BEGIN ISOLATION LEVEL SERIALIZABLE"
# A read-only transaction (Explore's reads: `BEGIN TRANSACTION READ ONLY` on DuckDB) reads one
# snapshot; it needs none of SERIALIZABLE's predicate locks, which a scan of a million rows
# would take by the page.
BEGIN_READ_ONLY = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"


def engine(cur) -> str:
    """'duckdb' or 'postgres': the few places that must differ ask this (db.engine)."""
    return getattr(cur, "engine", "duckdb")


def without_password(url: str) -> str:
    """A database URL fit for a log line or a screen: its password, if any, as ***."""
    return re.sub(r"://([^:@/]+):[^@/]*@", r"://\1:***@", url)


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def _configure(connection: psycopg.Connection) -> None:
    # Everything is stored and computed in UTC, as on DuckDB; the UI converts to the dealership's zone.
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET application_name = 'leadcore'")
    # The Dashboard's aggregates sort a month of leads (~260,000 rows at a million leads): in
    # memory rather than in temp files (PostgreSQL's default is 4 MB). A pool of POOL_SIZE
    # connections can use this per sort at most; a few hundred MB in the worst case.
    connection.execute(f"SET work_mem = '{WORK_MEM}'")


class Database:
    """A pool of connections to one PostgreSQL database; cursor() as on a DuckDB connection."""

    engine = "postgres"

    def __init__(self, url: str, size: int = POOL_SIZE) -> None:
        self.url = url
        self.pool = ConnectionPool(url, min_size=1, max_size=size, timeout=POOL_WAIT, open=True,
                                   kwargs={"autocommit": True}, configure=_configure,
                                   name="leadcore")
        self._default = Cursor(self)

    def cursor(self) -> Cursor:
        return Cursor(self)

    def execute(self, sql: str, params: Sequence | dict | None = None) -> Cursor:
        return self._default.execute(sql, params)

    def held(self):
        """As Cursor.held, on the database's own cursor (a DuckDB connection is a cursor too:
        db.insert_rows(con, ...) inside db.transaction(con), as the demo generator does)."""
        return self._default.held()

    def close(self) -> None:
        self.pool.close()


class Cursor:
    """DuckDB's cursor surface over pooled psycopg connections (see the module doc)."""

    engine = "postgres"

    def __init__(self, database: Database) -> None:
        self.database = database
        self._held: psycopg.Connection | None = None
        self._holds = 0
        self._rows: list[tuple] = []
        self._at = 0
        self.description: list | None = None
        self.rowcount = -1

    def cursor(self) -> Cursor:
        return Cursor(self.database)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        if self._held is not None:
            yield self._held
            return
        with self.database.pool.connection() as connection:
            yield connection

    @contextmanager
    def held(self) -> Iterator[psycopg.Connection]:
        """Keep one connection for the statements inside (temporary tables, advisory locks)."""
        self._hold()
        try:
            yield self._held
        finally:
            self._release()

    def _hold(self) -> None:
        if self._holds == 0:
            self._held = self.database.pool.getconn()
        self._holds += 1

    def _release(self) -> None:
        if self._holds:
            self._holds -= 1
            if self._holds == 0:
                connection, self._held = self._held, None
                self.database.pool.putconn(connection)

    def execute(self, sql: str, params: Sequence | dict | None = None) -> Cursor:
        word = sql.lstrip()[:8].upper()
        if word.startswith("BEGIN"):
            self._hold()
            sql = BEGIN_READ_ONLY if re.search(r"\bREAD\s+ONLY\b", sql, re.IGNORECASE) else BEGIN
        text, needs_params = translate(sql)
        with self._connection() as connection:
            try:
                result = connection.execute(text, _params(params) if needs_params else None,
                                            prepare=False)
            except BaseException:
                if word.startswith(("COMMIT", "ROLLBACK")):
                    self._release()
                raise
            self.description = result.description
            self.rowcount = result.rowcount
            if result.description:
                self._rows = result.fetchall()
            elif word.startswith(("INSERT", "UPDATE", "DELETE")):
                self._rows = [(result.rowcount,)]   # as DuckDB answers a change without RETURNING
            else:
                self._rows = []
            self._at = 0
        if word.startswith(("COMMIT", "ROLLBACK", "END")):
            self._release()
        return self

    def interrupt(self) -> None:
        """Stop the statement this cursor is running (from another thread), as DuckDB's
        interrupt() does: the statement fails with QueryCanceled. Only a cursor holding its
        connection (inside a transaction) has a statement to stop."""
        connection = self._held
        if connection is not None:
            connection.cancel_safe()

    def executemany(self, sql: str, rows: Sequence[Sequence | dict]) -> Cursor:
        text, _ = translate(sql)
        with self._connection() as connection, connection.cursor() as cursor:
            cursor.executemany(text, [_params(row) for row in rows])
        self.description, self._rows, self._at = None, [], 0
        return self

    def fetchall(self) -> list[tuple]:
        rows, self._rows, self._at = self._rows[self._at:], [], 0
        return rows

    def fetchone(self) -> tuple | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchmany(self, size: int = 1) -> list[tuple]:
        rows = self._rows[self._at:self._at + size]
        self._at += len(rows)
        return rows

    def df(self) -> pd.DataFrame:
        columns = [column.name for column in self.description or ()]
        return pd.DataFrame.from_records(self.fetchall(), columns=columns, coerce_float=True)

    fetchdf = df

    def fetchnumpy(self) -> dict:
        frame = self.df()
        return {name: frame[name].to_numpy() for name in frame.columns}

    def close(self) -> None:
        while self._holds:
            self._release()


def stream(cur: Cursor, sql: str, chunk: int = 50_000) -> Iterator[tuple]:
    """The rows of a large SELECT, fetched in chunks by a server-side cursor (inside a transaction)."""
    with cur.held() as connection, connection.cursor(name="leadcore_stream") as rows:
        rows.itersize = chunk
        rows.execute(sql)
        yield from rows


# --- a lock one app server of the group holds ---------------------------------------------------

log = logging.getLogger("leadcore.postgres")
# TCP keepalives on the lock's connection, both ways. PostgreSQL frees a session lock only when
# the session ends; a server that vanishes (power cut, network gone) never says goodbye, so
# PostgreSQL probes the idle connection (after 10 s, every 5 s, 3 misses: ~25 s) and ends it.
# The holder's side probes too, so a holder cut off from PostgreSQL learns it is no longer
# holding and stops (its next check fails) instead of working on beside the new holder.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
               "connect_timeout": 10}
_SERVER_KEEPALIVES = ("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; "
                      "SET tcp_keepalives_count = 3")


class SessionLock:
    """A PostgreSQL session-level advisory lock on a connection of its own, outside the pool
    (a pooled connection is handed to others and would carry the lock with it).

    `hold()` is asked again and again (each scheduler tick): it takes the lock when it is free
    and otherwise confirms that this connection still holds it. Advisory locks are per database,
    so the dealer groups of one PostgreSQL server do not meet.
    """

    def __init__(self, url: str, key: int, purpose: str) -> None:
        self.url, self.key = url, key
        # Who holds it is visible to the admins: pg_stat_activity.application_name.
        self.application_name = f"leadcore {purpose} {socket.gethostname()}:{os.getpid()}"[:63]
        self._connection: psycopg.Connection | None = None
        self._held = False

    @property
    def held(self) -> bool:
        """As of the last `hold()` (no round trip)."""
        return self._held

    def hold(self) -> bool:
        """True while this process holds the lock (taken now or earlier and still ours)."""
        for attempt in (1, 2):      # a broken connection (PostgreSQL restarted): once more, afresh
            try:
                return self._hold()
            except psycopg.Error as error:
                # Whatever we held, PostgreSQL freed with the session.
                log.warning("lost the connection of %s: %s", self.application_name, error)
                self._drop()
        return False

    def _hold(self) -> bool:
        if self._connection is None:
            self._connection = psycopg.connect(self.url, autocommit=True, application_name=self.application_name,
                                               **_KEEPALIVES)
            self._connection.execute(_SERVER_KEEPALIVES)
        if self._held:
            self._connection.execute("SELECT 1")    # still connected, so still holding
        else:
            self._held = bool(self._connection.execute("SELECT pg_try_advisory_lock(%s)",
                                                       [self.key]).fetchone()[0])
        return self._held

    def release(self) -> None:
        """Let go (closing the session frees the lock)."""
        self._drop()

    def _drop(self) -> None:
        self._held = False
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except psycopg.Error:
                pass


def _params(params: Sequence | dict | None) -> Sequence | dict:
    if params is None:
        return ()
    if isinstance(params, dict):
        return params
    return list(params)


_TOKENS = re.compile(r"""
    (?P<skip>'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|::)
  | (?P<named>\$(?P<name>[A-Za-z_]\w*))
  | (?P<positional>\?)
  | (?P<percent>%)
""", re.VERBOSE | re.DOTALL)
# (`::` is skipped so that a cast is never read as a named parameter's `$`... nor `?`.)


@lru_cache(maxsize=4096)
def translate(sql: str) -> tuple[str, bool]:
    """DuckDB's parameter styles as psycopg's, and whether the statement takes parameters.

    Without parameters the statement goes to PostgreSQL as written (it may hold several
    statements, as a migration does), so a `%` stays a `%`."""
    found = False

    def swap(match: re.Match) -> str:
        nonlocal found
        if match.group("skip"):     # a literal's % is still read by psycopg's formatting
            return match.group("skip").replace("%", "%%")
        if match.group("named"):
            found = True
            return f"%({match.group('name')})s"
        if match.group("positional"):
            found = True
            return "%s"
        return "%%"

    text = _TOKENS.sub(swap, sql)
    return (text, True) if found else (sql, False)


# DuckDB's type names PostgreSQL spells differently, for the DDL of the shared migrations.
_DDL_TYPES = ((re.compile(r"\bBLOB\b"), "BYTEA"), (re.compile(r"\bDOUBLE\b(?!\s+PRECISION)"), "DOUBLE PRECISION"),
              (re.compile(r"\bHUGEINT\b"), "NUMERIC(38)"), (re.compile(r"\bUBIGINT\b"), "NUMERIC(20)"))


# A DuckDB macro without parameters (explore_zone()) is a SQL function on PostgreSQL.
_MACRO = re.compile(r"CREATE MACRO (\w+)\(\) AS \((.*?)\);", re.DOTALL)


def ddl(sql: str) -> str:
    """A shared migration's DDL as PostgreSQL reads it."""
    for pattern, replacement in _DDL_TYPES:
        sql = pattern.sub(replacement, sql)
    return _MACRO.sub(r"CREATE FUNCTION \1() RETURNS VARCHAR LANGUAGE SQL STABLE AS $$ SELECT \2 $$;", sql)


@contextmanager
def staged(cur, name: str, rows: Any) -> Iterator[str]:
    """An Arrow table (or DataFrame) as a table `name` for the statements inside the block: a
    registered view on DuckDB, a temporary table filled by COPY on PostgreSQL."""
    if engine(cur) != "postgres":
        cur.register(name, rows)
        try:
            yield name
        finally:
            cur.unregister(name)
        return
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_pandas(rows, preserve_index=False)
    with cur.held() as connection:
        columns = ", ".join(f"{field.name} {_pg_type(field.type)}" for field in table.schema)
        connection.execute(f"CREATE TEMPORARY TABLE {name} ({columns})")
        try:
            _copy(connection, name, table)
            yield name
        finally:
            connection.execute(f"DROP TABLE IF EXISTS {name}")


def _copy(connection: psycopg.Connection, name: str, table: pa.Table) -> None:
    """COPY an Arrow table in: as CSV written by Arrow (a million rows in seconds), or row by row
    where CSV cannot carry a column (bytes: an outbox mail's attachment)."""
    names = ", ".join(table.column_names)
    with connection.cursor() as cursor:
        if any(_is_bytes(t) for t in table.schema.types):
            with cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
                for row in zip(*(column.to_pylist() for column in table.columns)):
                    copy.write_row(row)
            return
        with cursor.copy(f"COPY {name} ({names}) FROM STDIN (FORMAT csv)") as copy:
            for batch in table.to_batches(max_chunksize=50_000):
                buffer = io.BytesIO()
                pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=False))
                copy.write(buffer.getvalue())


def insert_rows(cur, table: str, rows) -> None:
    """INSERT every row of an Arrow table into `table`, by column name (COPY on PostgreSQL)."""
    if engine(cur) == "postgres":
        with cur.held() as connection:
            _copy(connection, table, rows)
        return
    with staged(cur, f"_rows_{threading.get_ident()}", rows) as name:
        columns = ", ".join(rows.column_names)
        cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {name}")


def _is_bytes(arrow_type) -> bool:
    return pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type)


def _pg_type(arrow_type) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE PRECISION"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if _is_bytes(arrow_type):
        return "BYTEA"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_decimal(arrow_type):
        return f"NUMERIC({arrow_type.precision}, {arrow_type.scale})"
    return "VARCHAR"
