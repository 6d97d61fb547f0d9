"""The SQL box against a hostile analyst: file reads through names DuckDB cannot bind (each
layer on its own too), list and text bombs, and the time and memory caps around what the
allow-list lets through."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlglot

from leadcore import process
from leadcore.analytics.explore import sql_box
from leadcore.analytics.explore.catalogue import QueryRefused
from leadcore.analytics.explore.read_only import QueryFailed
from leadcore.analytics.explore.sql_tree import check_tree

REPO = Path(__file__).resolve().parents[2]
SECRET = "secret-4711"


@pytest.fixture
def server_files(tmp_path) -> dict[str, str]:
    """Files of the server an analyst must not read, one per format DuckDB reads by name."""
    frame = pd.DataFrame({"secret": [SECRET]})
    frame.to_csv(tmp_path / "x.csv", index=False)
    (tmp_path / "x.json").write_text(json.dumps([{"secret": SECRET}]))
    frame.to_parquet(tmp_path / "x.parquet")
    for n in range(2):
        frame.to_csv(tmp_path / f"part{n}.csv", index=False)
    other = duckdb.connect(str(tmp_path / "other.duckdb"))
    other.execute(f"CREATE TABLE t AS SELECT '{SECRET}' AS secret")
    other.close()
    return {"csv": str(tmp_path / "x.csv"), "json": str(tmp_path / "x.json"),
            "parquet": str(tmp_path / "x.parquet"), "glob": str(tmp_path / "part*.csv"),
            "duckdb": str(tmp_path / "other.duckdb")}


ESCAPES = {
    "with-name out of scope": 'SELECT * FROM (WITH "{p}" AS (SELECT 1) SELECT 1) a, "{p}" b',
    "with-name of a subquery in WHERE": 'SELECT * FROM "{p}" WHERE EXISTS (WITH "{p}" AS (SELECT 1) SELECT 1)',
    "later sibling CTE": 'WITH a AS (SELECT * FROM "{p}"), "{p}" AS (SELECT 1) SELECT * FROM a',
    "CTE of the other union branch": '(WITH "{p}" AS (SELECT 1) SELECT 1) UNION ALL SELECT * FROM "{p}"',
    "scalar subquery": 'SELECT (SELECT count(*) FROM "{p}")',
    "single quotes": "SELECT * FROM '{p}'",
}


def _reads_the_file(cur, sql: str) -> bool:
    try:
        return SECRET in cur.execute(sql).df().to_string()
    except duckdb.Error:
        return False


@pytest.mark.parametrize("kind", ["csv", "json", "parquet", "glob", "duckdb"])
@pytest.mark.parametrize("escape", list(ESCAPES))
def test_names_duckdb_would_read_as_files_are_refused(cur, manager, server_files, kind, escape):
    text = ESCAPES[escape].format(p=server_files[kind])
    with pytest.raises(QueryRefused) as refused:
        sql_box.run_sql(cur, manager, text)
    assert "not one of the documented views" in refused.value.message


@pytest.mark.duckdb_only("shows what DuckDB itself does with a name it cannot bind")
@pytest.mark.parametrize("kind", ["csv", "parquet", "duckdb"])
def test_each_layer_refuses_the_out_of_scope_name_on_its_own(cur, server_files, kind):
    text = ESCAPES["with-name out of scope"].format(p=server_files[kind])
    assert _reads_the_file(cur, text)                # what DuckDB does with it unchecked
    with pytest.raises(QueryRefused):
        sql_box._check_shape(sqlglot.parse_one(text, read="duckdb"), set())
    with pytest.raises(QueryRefused):
        check_tree(text)


@pytest.mark.parametrize("text", [
    "WITH leads_now AS (SELECT * FROM explore_leads) SELECT count(*) FROM (SELECT * FROM leads_now) s",
    'WITH "Open" AS (SELECT * FROM explore_leads) SELECT count(*) FROM "open"',
    "WITH a AS (SELECT 1 AS x), b AS (SELECT * FROM a) SELECT * FROM b WHERE x IN (SELECT x FROM a)",
    "SELECT * FROM (WITH a AS (SELECT lead_id FROM explore_leads) SELECT * FROM a) s",
])
def test_ctes_used_where_they_are_visible_still_run(cur, manager, text):
    assert sql_box.run_sql(cur, manager, text).frame is not None


BOMBS = {
    "unnest(range(1e9))": "SELECT count(*) FROM (SELECT unnest(range(1e9)))",
    "range as bigint": "SELECT count(*) FROM (SELECT unnest(range(1000000000)))",
    "generate_series": "SELECT count(*) FROM (SELECT unnest(generate_series(1, 300000000)))",
    "repeat": "SELECT length(repeat('x', 1000000000))",
    "repeat with a cast": "SELECT length(repeat('x', CAST(1e9 AS BIGINT)))",
    "list_resize": "SELECT count(*) FROM (SELECT unnest(list_resize([1], 1000000000)))",
    "list literal": "SELECT [1, 2, 3]",
    "list_value": "SELECT len(list_value(1, 2))",
    "string_split": "SELECT string_split(subject, ' ') FROM explore_leads",
    "string_agg over a cross join": "SELECT length(string_agg(a.subject, ',')) FROM explore_leads a, explore_leads b",
    "array_agg": "SELECT array_agg(lead_id) FROM explore_leads",
    "list aggregate": "SELECT list(lead_id) FROM explore_leads",
    "lpad to a gigabyte": "SELECT lpad('x', 1000000000, 'y')",
    "lpad with a computed length": "SELECT lpad('x', lead_id * 1000000, 'y') FROM explore_leads",
    "printf width": "SELECT printf('%1000000000d', 1)",
    "format width": "SELECT format('{:>1000000000}', 'x')",
    "replace that grows": "SELECT replace(subject, 'a', 'aaaaaaaaaa') FROM explore_leads",
    "regexp_replace": "SELECT regexp_replace(subject, '', 'xxxx', 'g') FROM explore_leads",
    "levenshtein": "SELECT levenshtein(a.subject, b.subject) FROM explore_leads a, explore_leads b",
    "recursive doubling": "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r) SELECT max(length(s)) FROM r",
    "concatenation past the budget": "SELECT " + " || ".join(["subject"] * 13) + " FROM explore_leads",
    "a long quoted text": "SELECT '" + "x" * 1001 + "'",
    "lambda": "SELECT list_transform([1], x -> x)",
    "json": "SELECT json_extract('{}', '$')",
    "sleep": "SELECT pg_sleep(10)",
    "getenv": "SELECT getenv('HOME')",
    "current_setting": "SELECT current_setting('memory_limit')",
    "qualified function": "SELECT main.sum(lead_id) FROM explore_leads",
    "summarize as a table": "SELECT * FROM (SUMMARIZE explore_leads)",
    "describe as a table": "SELECT * FROM (DESCRIBE users)",
    "pivot": "PIVOT explore_leads ON source USING count(*)",
    "table function in a join": "SELECT * FROM explore_leads, range(10)",
    "unnest in FROM": "SELECT * FROM unnest([1, 2])",
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_list_and_text_bombs_are_refused_before_they_run(cur, manager, name):
    started = time.monotonic()
    with pytest.raises(QueryRefused) as refused:
        sql_box.run_sql(cur, manager, BOMBS[name])
    assert refused.value.message
    assert time.monotonic() - started < 1.0


def test_refusals_name_the_function_as_written(cur, manager):
    with pytest.raises(QueryRefused) as refused:
        sql_box.run_sql(cur, manager, "SELECT string_agg(source, ', ') FROM explore_leads")
    assert "string_agg" in refused.value.message                       # not sqlglot's listagg


def test_a_check_that_trips_over_odd_sql_refuses(cur, manager, monkeypatch):
    def trips(*_args):
        raise TypeError("unexpected shape")

    monkeypatch.setattr(sql_box, "check_tree", trips)
    with pytest.raises(QueryRefused) as refused:
        sql_box.run_sql(cur, manager, "SELECT 1")
    assert "could not be checked" in refused.value.message


def _settings(cur) -> tuple:
    return cur.execute("SELECT current_setting('memory_limit'), current_setting('threads'),"
                       " current_setting('operator_memory_limit')").fetchall()[0]


@pytest.mark.duckdb_only("DuckDB's database-wide memory_limit and threads (PostgreSQL's caps are SET LOCAL)")
def test_the_caps_hold_only_while_the_query_runs(cur, manager):
    before = _settings(cur)
    seen = []
    original = sql_box.execute_read_only

    def spy(*args, **kwargs):
        seen.append(_settings(cur.cursor()))
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sql_box, "execute_read_only", spy)
        sql_box.run_sql(cur, manager, "SELECT 1 AS one")
        with pytest.raises(QueryFailed):
            sql_box.run_sql(cur, manager, "SELECT no_such_column FROM explore_leads")
    memory, threads, _operator = seen[0]
    assert threads == 1 and duckdb.connect().execute(
        "SELECT parse_formatted_bytes($m) <= $cap", {"m": memory, "cap": 2 * sql_box.MEMORY_BYTES + (1 << 30)}
    ).fetchall() == [(True,)]
    assert _settings(cur) == before                                     # restored, after a failure too


def test_other_work_goes_on_while_a_sql_box_query_runs(cur, con, manager):
    slow = ("SELECT count(*) FROM " + ", ".join(
        f"(VALUES {', '.join(f'({i})' for i in range(100))}) t{k}(x)" for k in range(5)))
    errors = []

    def box():
        try:
            sql_box.run_sql(con.cursor(), manager, slow, timeout=1.0)
        except QueryFailed as error:
            errors.append(error.message)

    worker = threading.Thread(target=box)
    worker.start()
    deadline = time.monotonic() + 5
    while not process.PROCESS.sql_box.locked() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cur.execute("SELECT count(*) FROM users").fetchall()[0][0] >= 1
    with pytest.raises(QueryFailed) as busy:                            # one SQL-box query at a time
        sql_box.run_sql(cur, manager, "SELECT 1", timeout=0.1)
    assert "Another SQL query is running" in busy.value.message
    worker.join()
    assert errors and "longer than 1 seconds" in errors[0]
    assert sql_box.run_sql(cur, manager, "SELECT 1 AS ok").frame["ok"].tolist() == [1]


_HEAVY = textwrap.dedent('''
    import json, resource, sys, time
    from leadcore import db
    from leadcore.auth import User
    from leadcore.analytics.explore import caps, sql_box
    from leadcore.analytics.explore.read_only import QueryFailed

    con = db.connect(sys.argv[1])
    cur = con.cursor()
    analyst = User(1, "eva", "Eva Lang", "eva@example.com", "analyst")
    values = "(VALUES " + ", ".join(f"('{i:03d}-subject', {i})" for i in range(100)) + ")"
    many = ", ".join(f"{values} t{k}(s, i)" for k in range(5))          # 10^10 rows
    text = "'" + "x" * 1000 + "'"
    grown = f"SELECT {text} || {text} || {text} AS s FROM {many}"
    for _ in range(3):                                                  # 12 pieces: 81,000 characters a row
        grown = f"SELECT s || s || s AS s FROM ({grown}) g"
    heavy = {
        "sort of a cross join": f"SELECT t0.s, t1.s FROM {many} ORDER BY t0.s || t1.s || t2.s DESC",
        "distinct of a cross join": f"SELECT count(DISTINCT t0.s || t1.s || t2.s || t3.s) FROM {many}",
        "window over a cross join": f"SELECT max(r) FROM (SELECT row_number() OVER (ORDER BY t0.s || t1.s) r FROM {many})",
        "median of a cross join": f"SELECT median(t0.i * t1.i + t2.i) FROM {many}",
        "grouping a cross join": f"SELECT t0.s || t1.s || t2.s k, count(*) FROM {many} GROUP BY 1 ORDER BY 2 DESC",
        "largest text growth allowed": f"SELECT max(length(s)) FROM ({grown}) x",
    }
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    report = {}
    for name, query in heavy.items():
        started = time.monotonic()
        try:
            sql_box.run_sql(cur, analyst, query)
            outcome = "finished"
        except QueryFailed as error:
            outcome = error.message
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        report[name] = {"seconds": time.monotonic() - started, "grew": peak - base, "outcome": outcome}
    print(json.dumps(report))
''')


def test_what_the_allow_list_lets_through_is_stopped_within_the_caps(tmp_path, db_path):
    """In a process of its own, so its peak memory is measured alone: every heavy query that
    passes the checks is stopped within the time cap plus DuckDB's reaction time, and the
    process grows by less than the watchdog's budget plus one chunk's worth."""
    done = subprocess.run([sys.executable, "-c", _HEAVY, str(db_path)], check=False, cwd=REPO, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for name, seen in report.items():
        assert seen["outcome"] != "finished", name
        assert seen["seconds"] < sql_box.TIMEOUT_S + 3, (name, seen)
        assert seen["grew"] < sql_box.PROCESS_GROWTH_BYTES + (512 << 20), (name, seen)
