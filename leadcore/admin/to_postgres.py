"""Moving a dealership from its DuckDB file to PostgreSQL (`python -m leadcore copy-to-postgres URL`).

The target must be empty: the copy migrates it (the same numbered migrations), empties the
reference rows the migrations seeded, copies every table in one transaction (COPY, in chunks,
with progress), sets each sequence after the highest id, and then proves the copy: per table the
row count and an order-independent checksum of every value must match on both engines. Nothing
is kept of a copy that does not match (the transaction rolls back). The DuckDB file is only read.

The way back is a backup: take one (`python -m leadcore backup`) before moving, and restore it
into a DuckDB file should the group return to one server.
"""
from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import duckdb
import pyarrow as pa

from leadcore import db, postgres
from leadcore.admin.backup import row_counts
from leadcore.errors import LeadcoreError

CHUNK_ROWS = 100_000
Report = Callable[[float, str], None]


class TargetNotEmpty(LeadcoreError):
    pass


@dataclass(frozen=True)
class Copied:
    tables: dict[str, int]          # table -> rows, verified on both engines
    seconds: float


def copy_to_postgres(source: duckdb.DuckDBPyConnection, url: str, report: Report, clock) -> Copied:
    """Copy every table of `source` into the empty PostgreSQL database at `url` and verify it."""
    started = clock()
    target = db.connect(url)
    try:
        cur = target.cursor()
        # schema_version is the target's own: its migrations ran when db.connect opened it
        counts = {t: n for t, n in row_counts(source.cursor()).items() if t != "schema_version"}
        _require_empty(cur)
        total = max(sum(counts.values()), 1)
        done = 0
        with db.transaction(cur):
            tables = list(counts)
            for table in tables:
                cur.execute(f"DELETE FROM {table}")      # what the migrations seeded
            for table in tables:
                columns = _columns(source, table)
                batches = source.sql(f"SELECT {', '.join(columns)} FROM {table}").to_arrow_reader(CHUNK_ROWS)
                for batch in batches:
                    db.insert_rows(cur, table, _as_table(batch))
                    done += batch.num_rows
                    report(0.9 * done / total, f"{table}: {done:,} of {total:,} rows")
            _continue_sequences(cur)
            report(0.9, "verifying")
            _verify(source, cur, counts, report)
        report(1.0, "done")
        return Copied(counts, clock() - started)
    finally:
        target.close()


def _require_empty(cur) -> None:
    # "Empty" means no work of a dealership: users, contacts and leads are what a copy would clobber.
    for table in ("users", "contacts", "leads"):
        if cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]:
            raise TargetNotEmpty(f"The PostgreSQL database is not empty (it has {table}); copy into a new, "
                                 "empty database.")


def _columns(source: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [name for (name,) in source.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table]).fetchall()]


def _as_table(batch: pa.RecordBatch) -> pa.Table:
    return pa.Table.from_batches([batch])


_NEXTVAL = re.compile(r"nextval\('([\w.]+)'")


def _continue_sequences(cur) -> None:
    """Each sequence after the highest id copied, so the next lead gets the next number."""
    for table, column, default in cur.execute(
            "SELECT table_name, column_name, column_default FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'").fetchall():
        sequence = _NEXTVAL.search(default).group(1)
        top = cur.execute(f"SELECT max({column}) FROM {table}").fetchall()[0][0]
        if top is not None:
            cur.execute(f"SELECT setval('{sequence}', ?)", [top])


def _verify(source: duckdb.DuckDBPyConnection, cur, counts: dict[str, int], report: Report) -> None:
    for position, table in enumerate(counts):
        columns = _columns(source, table)
        sql = f"SELECT {', '.join(columns)} FROM {table}"
        ours = checksum(_rows_of_duckdb(source, sql))
        theirs = checksum(postgres.stream(cur, sql))
        if ours != theirs:
            raise LeadcoreError(f"The copy of {table} differs from the DuckDB file ({theirs[0]:,} of "
                                f"{ours[0]:,} rows, or their values); nothing was kept.")
        report(0.9 + 0.1 * (position + 1) / len(counts), f"verified {table} ({ours[0]:,} rows)")


def _rows_of_duckdb(source: duckdb.DuckDBPyConnection, sql: str) -> Iterable[tuple]:
    result = source.execute(sql)
    while rows := result.fetchmany(CHUNK_ROWS):
        yield from rows


def checksum(rows: Iterable[tuple]) -> tuple[int, int]:
    """(rows, sum of per-row hashes mod 2**64): equal for the same rows in any order."""
    count, total = 0, 0
    for row in rows:
        digest = hashlib.blake2b(repr(tuple(_canonical(v) for v in row)).encode(), digest_size=8).digest()
        total = (total + struct.unpack("<Q", digest)[0]) % (1 << 64)
        count += 1
    return count, total


def _canonical(value):
    """One spelling per value on both engines: instants in UTC microseconds, exact decimals, bytes."""
    if isinstance(value, datetime):
        return ("ts", round(value.timestamp() * 1_000_000)) if value.tzinfo else ("local", value.isoformat())
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, float):
        return repr(value)
    return value
