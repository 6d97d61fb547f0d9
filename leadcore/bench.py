"""The benchmark (not a test): how fast the Leads and Contacts reads, a lead creation, the
escalation sweep, the Leads and Dashboard pages and the intake are at 10,000 and 1,000,000 leads.

    from leadcore import bench
    bench.run()                                   # sizes 10k and 1M, prints a Markdown table
    bench.run(sizes=(10_000,), runs=5, fresh=True)

Databases are built once per size and seed with leadcore.demo under data/bench/ (git-ignored)
and reused while the demo generator is unchanged; `fresh=True` rebuilds them. Each operation
runs once to warm up, then `runs` times; the table shows the median and the 90th percentile.
All reads use a pinned clock (BENCH_NOW), the same the data was generated for.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import statistics
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np

from leadcore import contacts, db, demo, escalation, lead_list, leads, users
from leadcore.lead_list import LeadFilter

__all__ = ["BENCH_NOW", "run", "apptest_leads_page_ms", "database_for", "time_ms", "quantiles",
           "raise_script_error", "environment"]

BENCH_NOW = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT / "data" / "bench"
QUERY_GOAL_MS = 100.0
CREATE_GOAL_MS = 20.0
PAGE_FACTOR = 2.0          # the Leads page at the largest size: at most 2x its time at the smallest
SWEEP_GOAL_MS = 2000.0     # the first escalation sweep over every open lead
RESWEEP_GOAL_MS = 500.0    # a second sweep right after it (writes nothing)
SWEEP_RUNS = 5
SELLER_FACTOR = 1.5        # the visibility predicate: a seller's list at most 1.5x a manager's
RATIO_MIN_SIZE = 1_000_000 # ... at a million leads, where the goal is set
APPTEST_RUNS = 5


def _generator_version() -> str:
    """Changes whenever the demo generator, the due-time rules or the schema change."""
    generator = Path(demo.__file__).parent
    package = generator.parent
    digest = hashlib.sha1()
    for source in [*sorted(generator.glob("*.py")), package / "duetime.py",
                   *sorted((package / "migrations").glob("*.sql"))]:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def database_for(size: int, seed: int = 7, fresh: bool = False, folder: Path | None = None,
                 out: Callable[[str], None] = print) -> Path:
    """The path of a demo database with `size` leads, built unless a matching one exists."""
    folder = Path(folder) if folder is not None else DEFAULT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench-{size}-seed{seed}.duckdb"
    marker = path.with_suffix(".json")
    wanted = {"leads": size, "seed": seed, "now": BENCH_NOW.isoformat(),
              "generator": _generator_version()}
    if not fresh and path.exists() and marker.exists():
        try:
            known = json.loads(marker.read_text())
        except ValueError:
            known = {}
        if {k: known.get(k) for k in wanted} == wanted:
            out(f"- {size:,} leads: reusing {path} (built in {known.get('seconds', 0):.1f} s)")
            return path
    for stale in (path, Path(f"{path}.wal"), marker):
        stale.unlink(missing_ok=True)
    con = db.connect(path)
    try:
        summary = demo.generate(con, BENCH_NOW, size, seed=seed)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    marker.write_text(json.dumps({**wanted, "seconds": summary.seconds, "users": summary.users,
                                  "contacts": summary.contacts, "events": summary.events}))
    out(f"- {size:,} leads: built {path} in {summary.seconds:.1f} s "
        f"({summary.contacts:,} contacts, {summary.events:,} events, {summary.users} users)")
    return path


def time_ms(work: Callable[[], object], runs: int) -> list[float]:
    work()                                    # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return times


@contextmanager
def environment(**values: str):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _manager_id(db_path: str | Path) -> int:
    con = duckdb.connect(str(db_path))
    try:
        rows = con.execute("SELECT min(id) FROM users WHERE role = 'manager' AND active").fetchall()
    finally:
        con.close()
    if not rows or rows[0][0] is None:
        raise LookupError("the database has no active manager")
    return rows[0][0]


def apptest_leads_page_ms(db_path: str | Path, manager_id: int | None = None) -> float:
    """Milliseconds of one AppTest run of the Leads page for a signed-in manager.

    Sets LEADCORE_DB (and LEADCORE_NOW = BENCH_NOW, LEADCORE_SCHEDULER = off), runs app.py with
    session_state["user_id"] set, then times `switch_page("pages/leads.py").run()`.
    Raises RuntimeError with the app's exception when the script fails.
    """
    from streamlit.testing.v1 import AppTest     # imported here: leadcore does not need streamlit

    user_id = manager_id if manager_id is not None else _manager_id(db_path)
    # AppTest touches session state from the main thread; Streamlit warns about that each time.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    # The scheduler's escalation sweep would write notifications into the benchmark database
    # (and compete for the CPU): the page's own rendering is what is measured.
    with environment(LEADCORE_DB=str(Path(db_path).resolve()), LEADCORE_NOW=BENCH_NOW.isoformat(),
                      LEADCORE_SCHEDULER="off"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.session_state["user_id"] = user_id
        at.run()
        raise_script_error(at, "app.py")
        started = time.perf_counter()
        at.switch_page("pages/leads.py").run()
        elapsed = (time.perf_counter() - started) * 1000
        raise_script_error(at, "pages/leads.py")
    return elapsed


def raise_script_error(at, where: str) -> None:
    errors = list(at.exception)
    if errors:
        first = errors[0]
        message = getattr(first, "message", None) or getattr(first, "value", None) or str(first)
        raise RuntimeError(f"{where}: {message}")


def quantiles(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), float(np.percentile(times, 90))


def _measure(path: Path, size: int, runs: int) -> list[dict]:
    """Every operation at one size; each result: operation, median, p90, goal (ms or None)."""
    results = []
    con = db.connect(path)
    try:
        cur = con.cursor()
        by_name = {u.username: u for u in users.all_users(cur)}
        manager, seller = by_name["manager"], by_name["seller"]
        mobile_de = cur.execute("SELECT id FROM sources WHERE name = 'mobile.de'").fetchall()
        source_id = mobile_de[0][0] if mobile_de else cur.execute(
            "SELECT min(id) FROM sources").fetchall()[0][0]
        common = cur.execute(
            "SELECT last_name FROM contacts WHERE last_name <> '' GROUP BY last_name"
            " ORDER BY count(*) DESC, last_name LIMIT 1").fetchall()[0][0]
        mobile = cur.execute("SELECT mobile FROM contacts WHERE mobile <> '' ORDER BY id"
                             " LIMIT 1 OFFSET (SELECT count(*) // 2 FROM contacts)").fetchall()[0][0]
        national = "0" + mobile[3:] if mobile.startswith("+49") else mobile
        first_page = lead_list.list_leads(cur, manager, BENCH_NOW, LeadFilter())

        def add(operation: str, work: Callable[[], object], goal: float | None,
                n: int = runs) -> None:
            median, p90 = quantiles(time_ms(work, n))
            results.append({"size": size, "operation": operation, "median": median, "p90": p90,
                            "goal": goal})

        q = QUERY_GOAL_MS
        supervisor = by_name["supervisor"]
        add("Leads list: manager, first page", lambda: lead_list.list_leads(
            cur, manager, BENCH_NOW, LeadFilter()), q)
        base = "Leads list: manager, first page"
        add("Leads list: seller, first page (visibility)", lambda: lead_list.list_leads(
            cur, seller, BENCH_NOW, LeadFilter()), ("ratio", base, SELLER_FACTOR))
        add("Leads list: supervisor, first page (team)", lambda: lead_list.list_leads(
            cur, supervisor, BENCH_NOW, LeadFilter()), ("ratio", base, SELLER_FACTOR))
        add("Leads list: manager, next page (keyset)", lambda: lead_list.list_leads(
            cur, manager, BENCH_NOW, LeadFilter(), after=first_page.next_after), q)
        add("Leads list: seller, my leads", lambda: lead_list.list_leads(
            cur, seller, BENCH_NOW, LeadFilter(mine=True)), q)
        add("Leads list: mobile.de + overdue", lambda: lead_list.list_leads(
            cur, manager, BENCH_NOW, LeadFilter(source_ids=(source_id,),
                                                traffic_lights=("overdue",))), q)
        add(f"Leads list: search name '{common}'", lambda: lead_list.list_leads(
            cur, manager, BENCH_NOW, LeadFilter(text=common)), q)
        add(f"Leads list: search phone '{national}'", lambda: lead_list.list_leads(
            cur, manager, BENCH_NOW, LeadFilter(text=national)), q)
        add("Leads count: manager, open", lambda: lead_list.count_leads(
            cur, manager, BENCH_NOW, LeadFilter()), q)
        add(f"Contacts search '{common[:4]}'", lambda: contacts.search_contacts(
            cur, common[:4]), q)
        add("Contacts first page (no query)", lambda: contacts.search_contacts(cur, ""), q)

        contact_ids = [r[0] for r in cur.execute(
            "SELECT id FROM contacts WHERE NOT deleted ORDER BY hash(id) LIMIT ?",
            [runs + 1]).fetchall()]
        created: list[int] = []

        def create() -> None:
            contact_id = contact_ids[len(created) % len(contact_ids)]
            created.append(leads.create_lead(cur, seller, BENCH_NOW, leads.LeadInput(
                contact_id=contact_id, source_id=source_id, lead_type="used_car",
                subject="Benchmark: Anfrage VW Golf 8, EZ 2021", editor_id=seller.id)))

        try:
            add("Create one lead (leads.create_lead)", create, CREATE_GOAL_MS)
        finally:
            if created:   # keep the reusable database as it was built
                db.write(cur, lambda c: _delete_leads(c, created))
        results.extend(_measure_sweeps(cur, size))
        manager_id = manager.id
    finally:
        con.close()

    try:
        times = time_ms(lambda: apptest_leads_page_ms(path, manager_id), min(runs, APPTEST_RUNS))
        median, p90 = quantiles(times)
        results.append({"size": size, "operation": "Leads page (AppTest run, manager)",
                        "median": median, "p90": p90, "goal": "page"})
    except Exception as exc:    # the page may not exist yet: the bench stays useful
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
        results.append({"size": size, "operation": "Leads page (AppTest run, manager)",
                        "median": None, "p90": None, "goal": "page", "error": error,
                        "trace": traceback.format_exc()})
    return results


def _measure_sweeps(cur: duckdb.DuckDBPyConnection, size: int) -> list[dict]:
    """The escalation sweep from scratch (no notifications yet) and right after itself.

    The demo database has its past notifications settled; each run forgets them first, and
    afterwards they are settled again, so the database stays as built.
    """
    first, second, written = [], [], []
    try:
        for _ in range(SWEEP_RUNS):
            db.write(cur, lambda c: [c.execute(f"DELETE FROM {t}").fetchall()
                                     for t in ("outbox", "notifications")])
            started = time.perf_counter()
            result = escalation.sweep(cur, BENCH_NOW)
            first.append((time.perf_counter() - started) * 1000)
            written.append(result.total)
            started = time.perf_counter()
            again = escalation.sweep(cur, BENCH_NOW)
            second.append((time.perf_counter() - started) * 1000)
            if again.total or again.mails:
                raise AssertionError(f"the second sweep wrote {again.total} notifications")
    finally:
        db.write(cur, lambda c: [c.execute(f"DELETE FROM {t}").fetchall()
                                 for t in ("outbox", "notifications")])
        demo.settle_past_notifications(cur, BENCH_NOW)
    open_leads = cur.execute("SELECT count(*) FROM leads WHERE status = 'open'").fetchall()[0][0]
    rows = []
    for operation, times, goal in (
            (f"Escalation sweep, first ({open_leads:,} open, {written[0]:,} notifications)",
             first, SWEEP_GOAL_MS),
            ("Escalation sweep, second (writes nothing)", second, RESWEEP_GOAL_MS)):
        median, p90 = quantiles(times)
        rows.append({"size": size, "operation": operation, "median": median, "p90": p90, "goal": goal})
    return rows


def _delete_leads(cur: duckdb.DuckDBPyConnection, ids: list[int]) -> None:
    for table, column in (("lead_events", "lead_id"), ("leads", "id")):
        cur.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT unnest(?::BIGINT[]))",
                    [ids]).fetchall()


def _goal_cells(result: dict, page_baseline: float | None, baseline_size: int | None,
                results: list[dict]) -> tuple[str, str]:
    goal = result["goal"]
    median = result["median"]
    if isinstance(goal, tuple):      # ("ratio", operation, factor): relative to another row
        _kind, operation, factor = goal
        if result["size"] < RATIO_MIN_SIZE:   # a few ms either way is noise on small data
            return "–", "–"
        base = next(r["median"] for r in results
                    if r["operation"] == operation and r["size"] == result["size"])
        return (f"≤ {factor:g}× manager ({factor * base:.0f} ms)",
                "yes" if median <= factor * base else "**NO**")
    if goal == "page":
        if baseline_size is None or result["size"] == baseline_size:
            return "baseline", "–" if median is None else "ok"
        if median is None or page_baseline is None:
            return f"≤ {PAGE_FACTOR:g}× {baseline_size:,}", "n/a"
        limit = PAGE_FACTOR * page_baseline
        return (f"≤ {PAGE_FACTOR:g}× {baseline_size:,} ({limit:.0f} ms)",
                "yes" if median <= limit else "**NO**")
    if goal is None:                 # measured for the record, no goal of its own
        return "–", "–"
    if median is None:
        return f"< {goal:.0f} ms", "n/a"
    return f"< {goal:.0f} ms", "yes" if median < goal else "**NO**"


def run(sizes: tuple[int, ...] = (10_000, 1_000_000), out: Callable[[str], None] = print, *,
        fresh: bool = False, runs: int = 15, seed: int = 7,
        folder: str | Path | None = None) -> list[dict]:
    """Build (or reuse) a demo database per size, measure, and print a Markdown table via `out`.

    Returns the rows (size, operation, median, p90 in ms, goal, and `error` for a failed page run).
    """
    sizes = tuple(sorted(sizes))
    out(f"Databases (seed {seed}, clock pinned at {BENCH_NOW.isoformat()}):")
    paths = {size: database_for(size, seed, fresh, Path(folder) if folder else None, out)
             for size in sizes}
    from leadcore import bench_dashboard    # imported here: it builds on this module

    results: list[dict] = []
    dashboard_page_base = None
    for size in sizes:
        results.extend(_measure(paths[size], size, runs))
        for operation, median, p90, goal in bench_dashboard.dashboard_rows(
                paths[size], runs, dashboard_page_base):
            results.append({"size": size, "operation": operation, "median": median, "p90": p90,
                            "goal": goal})
            if operation.startswith("Dashboard page") and dashboard_page_base is None:
                dashboard_page_base = median

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    baseline_size = sizes[0] if len(sizes) > 1 else None
    page_baseline = next((r["median"] for r in results if r["goal"] == "page"
                          and r["size"] == baseline_size), None)
    out("")
    out(f"Median and 90th percentile of {runs} runs after one warm-up "
        f"(the Leads page: {min(runs, APPTEST_RUNS)} runs). Load average at the end: {load:.1f} "
        f"on {os.cpu_count()} CPUs (above the CPU count, other work slowed these numbers).")
    out("")
    out("| size | operation | median ms | p90 ms | goal | ok? |")
    out("|---:|---|---:|---:|---|---|")
    for r in results:
        goal, ok = _goal_cells(r, page_baseline, baseline_size, results)
        median = "n/a" if r["median"] is None else f"{r['median']:.1f}"
        p90 = "n/a" if r["p90"] is None else f"{r['p90']:.1f}"
        out(f"| {r['size']:,} | {r['operation']} | {median} | {p90} | {goal} | {ok} |")
    for r in results:
        if r.get("error"):
            out(f"\nLeads page at {r['size']:,}: n/a ({r['error']})")
    _intake_table(paths[sizes[-1]], out)
    return results


def _intake_table(path: Path, out: Callable[[str], None]) -> None:
    """Intake throughput into (a copy of) the largest database: its own units, its own table."""
    from leadcore import bench_intake

    out("")
    rows = bench_intake.intake_rows(path, out=out)
    out("")
    out("| operation | value | unit | goal | ok? |")
    out("|---|---:|---|---|---|")
    for operation, value, unit, goal, met in rows:
        verdict = "–" if met is None else ("yes" if met else "**NO**")
        out(f"| {operation} | {value:,.1f} | {unit} | {goal or '–'} | {verdict} |")
