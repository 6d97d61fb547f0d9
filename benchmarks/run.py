"""The benchmark (not a test): how fast the Leads and Contacts reads, a lead creation, the
escalation sweep, the Leads and Dashboard pages and the intake are at 10,000 and 1,000,000 leads.

    from benchmarks import run
    run.run()                                   # sizes 10k and 1M, prints a Markdown table
    run.run(sizes=(10_000,), runs=5, fresh=True)

Databases are built once per size and seed with leadcore.demo under data/bench/ (git-ignored)
and reused while the demo generator is unchanged; `fresh=True` rebuilds them. Each operation
runs once to warm up, then `runs` times; the table shows the median and the 90th percentile.
All reads use a pinned clock (BENCH_NOW), the same the data was generated for.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from benchmarks import dashboard, intake, reads
from benchmarks.common import APPTEST_RUNS, BENCH_NOW, database_for

PAGE_FACTOR = 2.0          # the Leads page at the largest size: at most 2x its time at the smallest
RATIO_MIN_SIZE = reads.RATIO_MIN_SIZE


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

    results: list[dict] = []
    dashboard_page_base = None
    for size in sizes:
        results.extend(reads.measure(paths[size], size, runs))
        for operation, median, p90, goal in dashboard.dashboard_rows(
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

    out("")
    rows = intake.intake_rows(path, out=out)
    out("")
    out("| operation | value | unit | goal | ok? |")
    out("|---|---:|---|---|---|")
    for operation, value, unit, goal, met in rows:
        verdict = "–" if met is None else ("yes" if met else "**NO**")
        out(f"| {operation} | {value:,.1f} | {unit} | {goal or '–'} | {verdict} |")
