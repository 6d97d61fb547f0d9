"""What every benchmark shares: the demo databases (built once per size and seed under
data/bench/), the pinned clock, timing, and running a page through AppTest."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np

from leadcore import db, demo

BENCH_NOW = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT / "data" / "bench"
APPTEST_RUNS = 5


def _generator_version() -> str:
    """Changes whenever the demo generator, the due-time rules or the schema change."""
    generator = Path(demo.__file__).parent
    package = generator.parent
    digest = hashlib.sha1()
    for source in [*sorted(generator.glob("*.py")), package / "rules" / "duetime.py",
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


def manager_id_of(db_path: str | Path) -> int:
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
    from streamlit.testing.v1 import AppTest  # imported here: leadcore does not need streamlit

    user_id = manager_id if manager_id is not None else manager_id_of(db_path)
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


