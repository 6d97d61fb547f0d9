"""Benchmark of the Dashboard: all its queries together, and a full AppTest run of its page.

    python -m benchmarks.dashboard --sizes 10000 1000000 10000000
    python -m benchmarks.dashboard --url postgresql://leadcore@127.0.0.1:5432/bench

The databases are benchmarks.common's (the demo generator's, under data/bench/, reused while the
generator is unchanged), built in a child process so the generator's memory does not count
against this one. With --url the queries run on that PostgreSQL database instead, filled with
the same demo data beforehand (LEADCORE_NOW=2026-11-27T10:00:00+01:00 LEADCORE_DATABASE_URL=URL
python -m leadcore demo --leads N --seed 7, then VACUUM ANALYZE); the page run is left out there
(its AppTest opens a DuckDB file). Figures are medians and 90th percentiles in milliseconds
against the goals of issue 4: the Dashboard's queries under 150 ms at 1,000,000 leads and under
1.5 s at 10,000,000 (issue 12: under 300 ms at 1,000,000 on PostgreSQL); the page run at
1,000,000 leads at most twice its run at 10,000; the peak RSS of this process under 2 GB.
"""
from __future__ import annotations

import argparse
import logging
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import common as bench
from leadcore import auth, db
from leadcore.analytics import dashboard as analytics

NOW = bench.BENCH_NOW            # the moment the benchmark data is made for and measured at
PAGE = Path(__file__).resolve().parents[1] / "pages" / "dashboard.py"
PAGE_FACTOR = 2.0
PAGE_GOAL_UP_TO = 1_000_000      # the page's goal compares 1,000,000 leads with 10,000
Row = tuple[str, float, float, float | None]


def ensure_database(leads: int, fresh: bool = False) -> tuple[Path, float]:
    """benchmarks.common's database of `leads` demo leads, and the seconds it took to make sure of
    it (to build it, when it was missing or stale). Built and checked in a child process only:
    the generator's memory must not count against this process."""
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", "import sys; from benchmarks import common as bench; "
         "print(bench.database_for(int(sys.argv[1]), fresh=sys.argv[2] == '1', out=lambda _: None))",
         str(leads), "1" if fresh else "0"], check=True, capture_output=True, text=True)
    return Path(child.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def _timed(work: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and p90 in ms of `runs` runs after a warm-up (benchmarks.common's measure)."""
    return bench.quantiles(bench.time_ms(work, runs))


def default_filter() -> analytics.DashboardFilter:
    """What the page shows first: the last 30 days, all locations, sources and lead types."""
    start, end = analytics.preset_period("30 days", NOW.date())
    return analytics.DashboardFilter(start, end)


def _manager(cur):

    user_id = cur.execute("SELECT id FROM users WHERE role = 'manager' ORDER BY id LIMIT 1").fetchall()[0][0]
    return auth.get_user(cur, user_id)


def query_goal_ms(leads: int, postgres: bool = False) -> float:
    if postgres:
        return 300.0 if leads <= 1_000_000 else 3000.0
    return 150.0 if leads <= 1_000_000 else 1500.0


def page_goal_ms(leads: int, baseline_page_ms: float | None) -> float | None:
    return PAGE_FACTOR * baseline_page_ms if baseline_page_ms and leads <= PAGE_GOAL_UP_TO else None


def dashboard_rows(db_path: str | Path, runs: int = 15,
                   baseline_page_ms: float | None = None) -> list[Row]:
    """(operation, median_ms, p90_ms, goal_ms) for the Dashboard on the database at db_path:
    its queries one by one, all together (as the page runs them), and a full AppTest run of
    pages/dashboard.py. The page run's goal is twice `baseline_page_ms` (the 10,000-lead run)."""
    from leadcore.ui import session

    # Cached reads are used outside a script run here; Streamlit warns about that each time (a
    # filter, not a level: Streamlit resets its loggers' levels).
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())
    on_postgres = isinstance(db_path, str) and db_path.startswith("postgres")
    if on_postgres:
        con = db.connect(db_path)
    else:
        path = str(Path(db_path).resolve())
        con = session.root_connection(path)          # the connection the page will use, too
    cur = con.cursor()
    user, f = _manager(cur), default_filter()
    leads = cur.execute("SELECT count(*) FROM leads").fetchall()[0][0]
    goal = query_goal_ms(leads, on_postgres)
    quarter = analytics.DashboardFilter(*analytics.preset_period("this quarter", NOW.date()))
    picked = analytics.DashboardFilter(f.period_from, f.period_to, picked_source="mobile.de")
    scope = analytics.scope(cur, user, NOW, f)
    steps: list[tuple[str, Callable[[], object], float | None]] = [
        ("open leads snapshot (light, level, editor)", lambda: analytics.open_snapshot(scope), None),
        ("new leads per day", lambda: analytics.new_per_bucket(scope), None),
        ("first response, working hours", lambda: analytics.response_table(scope), None),
        ("completions by reason", lambda: analytics.completion_table(scope), None),
        ("Dashboard queries, 30 days", lambda: analytics.dashboard(cur, user, NOW, f), goal),
        ("Dashboard queries, 30 days, source picked",
         lambda: analytics.dashboard(cur, user, NOW, picked), goal),
        ("Dashboard queries, this quarter", lambda: analytics.dashboard(cur, user, NOW, quarter), None),
    ]
    rows: list[Row] = [(name, *_timed(work, runs), goal) for name, work, goal in steps]
    cur.close()
    if on_postgres:
        con.close()
        return rows
    rows.append(("Dashboard page, full AppTest run", *page_run_ms(path, runs=max(3, runs // 3)),
                 page_goal_ms(leads, baseline_page_ms)))
    return rows


def page_run_ms(db_path: str, runs: int = 5) -> tuple[float, float]:
    """Median and p90 of a full AppTest run of pages/dashboard.py signed in as a manager."""
    from streamlit.testing.v1 import AppTest

    from leadcore.ui import session

    user = _manager(session.root_connection(db_path).cursor())

    def run() -> None:
        at = AppTest.from_file(str(PAGE), default_timeout=120)
        at.session_state["user_id"] = user.id
        at.run()
        bench.raise_script_error(at, "pages/dashboard.py")

    with bench.environment(LEADCORE_DB=db_path, LEADCORE_NOW=NOW.isoformat(), LEADCORE_SCHEDULER="off"):
        return _timed(run, runs)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_rows(leads: int, rows: list[Row]) -> None:
    print(f"\nDashboard at {leads:,} leads")
    print(f"{'operation':<46} {'median ms':>10} {'p90 ms':>10} {'goal ms':>10}  ok")
    for name, median, p90, goal in rows:
        verdict = "" if goal is None else ("yes" if median <= goal else "NO")
        goal_text = "" if goal is None else f"{goal:,.0f}"
        print(f"{name:<46} {median:>10,.1f} {p90:>10,.1f} {goal_text:>10}  {verdict}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.dashboard")
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--fresh", action="store_true", help="rebuild the benchmark databases")
    p.add_argument("--url", help="time the queries on this PostgreSQL database (holding demo data) instead")
    args = p.parse_args(argv)
    if args.url:
        rows = dashboard_rows(args.url, runs=args.runs)
        leads = db.connect(args.url).execute("SELECT count(*) FROM leads").fetchall()[0][0]
        print_rows(leads, rows)
        return 0
    baseline = None
    for leads in sorted(args.sizes):
        path, seconds = ensure_database(leads, fresh=args.fresh)
        print(f"{path}: {leads:,} demo leads, ready in {seconds:.1f} s", flush=True)
        rows = dashboard_rows(path, runs=args.runs, baseline_page_ms=baseline)
        print_rows(leads, rows)
        if baseline is None:
            baseline = rows[-1][1]
        print(f"peak RSS of this process so far: {peak_rss_mb():,.0f} MB (goal < 2,048 MB); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
