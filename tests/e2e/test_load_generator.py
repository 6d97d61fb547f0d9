"""The websocket load generator (benchmarks/load.py) really speaks Streamlit's protocol: it signs
a session in through app.py's form and reruns the Leads page, beside the trivial page, and
reports what the servers did. A short run on a small demo database, both servers stopped after."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import load

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_sessions_sign_in_and_rerun_the_leads_page_beside_the_trivial_page(tmp_path):
    database = tmp_path / "load.duckdb"
    subprocess.run([sys.executable, "-m", "leadcore", "demo", "--leads", "300"], cwd=REPO, check=True,
                   capture_output=True, timeout=120,
                   env=dict(os.environ, LEADCORE_DB=str(database), LEADCORE_NOW=load.DEFAULT_NOW))
    report = tmp_path / "rows.json"
    # Its own process, as it is run: the browser tests' event loop may be running in this one.
    run = subprocess.run([sys.executable, "-m", "benchmarks.load", "--db", str(database), "--pages", "leads",
                          "leads#fragment", "--sessions", "2", "--seconds", "2", "--warmup", "1",
                          "--json", str(report)],
                         cwd=REPO, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {row["page"]: row for row in json.loads(report.read_text())["rows"]}
    # leads#fragment: only the list fragment reran (the generator checks each run's status).
    for page in ("leads", "leads#fragment", "trivial"):
        assert rows[page]["reruns"] > 0 and rows[page]["errors"] == 0, rows[page]
        assert rows[page]["cpu_ms_per_rerun"] > 0


def test_it_refuses_any_host_but_loopback_and_unbounded_runs(tmp_path, capsys):
    database = tmp_path / "none.duckdb"
    database.touch()
    assert load.main(["--db", str(database), "--host", "10.0.0.1", "--sessions", "1"]) == 2
    assert load.main(["--db", str(database), "--sessions", "101"]) == 2
    assert load.main(["--db", str(database), "--seconds", "301"]) == 2
    assert load.main(["--database-url", "postgresql://leadcore@10.0.0.2:5432/x", "--sessions", "1"]) == 2
    assert load.main(["--db", str(database), "--servers", "2"]) == 2
    errors = capsys.readouterr().err
    assert "refusing host '10.0.0.1'" in errors and "sessions must be between 1 and 100" in errors
    assert "refusing database host '10.0.0.2'" in errors and "several servers need --database-url" in errors
