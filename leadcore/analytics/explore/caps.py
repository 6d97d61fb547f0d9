"""The SQL box's resource caps that DuckDB only has per database, not per connection: while a
SQL-box query runs, the database's memory_limit is lowered to what it uses now plus a budget and
its threads to one. A process lock lets one SQL-box query run at a time, so the caps are set and
restored by one owner and two analysts cannot double the budget.

What this costs: for those seconds the rest of the app (other pages, the scheduler) shares that
memory headroom and one worker thread. Its own queries are page-sized, so they only slow a little;
a query of theirs that would need more than the headroom fails and is retried by its caller.

On PostgreSQL every cap is per statement and set by the SQL box itself (work_mem and
statement_timeout, SET LOCAL in its own transaction): nothing database-wide is lowered. The lock
still lets one SQL-box query run at a time per app server: work_mem holds per sort or hash table,
so analysts at once would take that many times from the memory the sellers' queries share.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from leadcore import db, process
from leadcore.analytics.explore.read_only import QueryFailed
from leadcore.i18n import _

__all__ = ["sql_box_limits"]

@contextmanager
def sql_box_limits(cur, memory: int, threads: int, wait: float) -> Iterator[None]:
    """Hold the SQL box's lock (QueryFailed after `wait` seconds) and, on DuckDB, lower the
    database's memory_limit and threads while the block runs; both come back afterwards, also
    on errors."""
    one_at_a_time = process.PROCESS.sql_box
    if not one_at_a_time.acquire(timeout=wait):
        raise QueryFailed(_("Another SQL query is running at the moment. Try again in a few seconds."))
    if db.engine(cur) == "postgres":
        try:
            yield
        finally:
            one_at_a_time.release()
        return
    admin = cur.cursor()
    try:
        limit, workers, used = admin.execute(
            "SELECT parse_formatted_bytes(current_setting('memory_limit')), current_setting('threads'),"
            " (SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory())").fetchall()[0]
        try:
            admin.execute(f"SET memory_limit = '{min(int(limit), int(used) + memory)}B'")
            admin.execute(f"SET threads = {min(int(workers), threads)}")
            yield
        finally:
            # RESET, not SET to the value read above: DuckDB shows memory_limit rounded to a
            # tenth of a unit, so setting back what it showed would shrink the limit a little on
            # every query. leadcore configures neither setting, so the defaults are what it had.
            admin.execute("RESET threads")
            admin.execute("RESET memory_limit")
    finally:
        admin.close()
        one_at_a_time.release()
