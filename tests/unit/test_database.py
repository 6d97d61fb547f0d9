"""Opening the database: migrations, the one-process lock, and all-or-nothing writes."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import leadcore
from leadcore import db
from leadcore.errors import Conflict, DatabaseBusy, LeadcoreError

# DuckDB's migrations: the shared ones and its own, never PostgreSQL's (*.postgres.sql)
MIGRATION_FILES = sorted(p.name for p in (Path(leadcore.__file__).parent / "migrations").glob("*.sql")
                         if not p.name.endswith(".postgres.sql"))
TABLES = {"schema_version", "users", "user_superiors", "contacts", "sources", "completion_reasons",
          "settings", "holidays", "leads", "lead_events"}


def _tables(cur) -> set[str]:
    return {r[0] for r in cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}


@pytest.fixture
def fresh(tmp_path) -> Path:
    """A path where no database exists yet (the shared fixtures start from a migrated copy)."""
    path = tmp_path / "sub" / "fresh.duckdb"
    assert not path.exists()
    return path


def test_opening_a_new_file_creates_every_table_and_records_each_migration(fresh):
    con = db.connect(fresh)                       # also creates the missing folder
    cur = con.cursor()
    assert fresh.exists()
    assert TABLES <= _tables(cur)
    recorded = cur.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
    assert [f"{v:04d}_{n}.sql" for v, n in recorded] == MIGRATION_FILES
    assert [v for v, _ in recorded][:2] == [1, 2]
    assert len(MIGRATION_FILES) >= 2
    con.close()


def test_reference_data_ships_with_the_schema(cur):
    reasons = cur.execute("SELECT code, outcome FROM completion_reasons ORDER BY position").fetchall()
    assert reasons == [("sold", "won"), ("bought_elsewhere", "lost"), ("no_interest", "lost"),
                       ("not_reachable", "lost"), ("duplicate", "neutral"), ("spam", "neutral")]
    names = [r[0] for r in cur.execute("SELECT name FROM sources ORDER BY position").fetchall()]
    assert names == ["mobile.de", "AutoScout24", "Website form", "Phone", "Walk-in", "E-mail"]


def test_opening_again_applies_nothing_new(fresh):
    first = db.connect(fresh)
    before = first.execute("SELECT version, name, applied_at FROM schema_version ORDER BY version").fetchall()
    sources_before = first.execute("SELECT count(*) FROM sources").fetchall()[0][0]
    assert db.migrate(first) == []
    first.close()

    second = db.connect(fresh)
    try:
        assert db.migrate(second) == []
        after = second.execute("SELECT version, name, applied_at FROM schema_version ORDER BY version").fetchall()
        assert after == before
        # reference data was not inserted a second time
        assert second.execute("SELECT count(*) FROM sources").fetchall()[0][0] == sources_before == 6
    finally:
        second.close()


def test_a_new_migration_is_applied_once_and_reported(fresh, monkeypatch):
    db.connect(fresh).close()
    shipped = db._migrations()
    monkeypatch.setattr(db, "_migrations", lambda *_: shipped + [
        (9001, "add_colour", "CREATE TABLE colours (name VARCHAR); INSERT INTO colours VALUES ('rot');")])
    con = db.connect(fresh)
    try:
        assert con.execute("SELECT name FROM colours").fetchall() == [("rot",)]
        assert con.execute("SELECT name FROM schema_version WHERE version = 9001").fetchall() == [
            ("add_colour",)]
        assert db.migrate(con) == []
    finally:
        con.close()


def test_a_failing_migration_leaves_nothing_behind(fresh, monkeypatch):
    db.connect(fresh).close()
    shipped = db._migrations()
    monkeypatch.setattr(db, "_migrations", lambda *_: shipped + [
        (9002, "broken", "CREATE TABLE half_done (a INT); INSERT INTO no_such_table VALUES (1);")])
    with pytest.raises(Exception, match="no_such_table"):
        db.connect(fresh)
    monkeypatch.setattr(db, "_migrations", lambda *_: shipped)
    con = db.connect(fresh)
    try:
        assert "half_done" not in _tables(con)
        assert con.execute("SELECT count(*) FROM schema_version WHERE version = 9002").fetchall() == [(0,)]
    finally:
        con.close()


def test_a_second_process_gets_a_plain_database_busy_message(tmp_path):
    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from leadcore import db
            con = db.connect({str(path)!r})
            print("ready", flush=True)
            sys.stdin.read()          # hold the file open until the parent closes stdin
            con.close()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(leadcore.__file__).parent.parent,
    )
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr.read()
        with pytest.raises(DatabaseBusy) as caught:
            db.connect(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=20)
    message = caught.value.message
    assert isinstance(caught.value, LeadcoreError)
    assert message.startswith(f"The database {path} is in use by another leadcore process")
    assert f"(process {holder.pid})" in message
    assert message.endswith(".")
    assert "IO Error" not in message and "Traceback" not in message
    assert caught.value.__suppress_context__          # raised `from None`: no chained duckdb error


def test_after_the_other_process_ends_the_file_opens_normally(tmp_path):
    path = tmp_path / "free.duckdb"
    subprocess.run([sys.executable, "-c", f"from leadcore import db; db.connect({str(path)!r}).close()"],
                   check=True, cwd=Path(leadcore.__file__).parent.parent, timeout=30)
    con = db.connect(path)
    try:
        assert con.execute("SELECT count(*) FROM schema_version").fetchall()[0][0] == len(MIGRATION_FILES)
        assert db.migrate(con) == []
    finally:
        con.close()


def test_a_failing_unit_of_work_leaves_no_half_written_rows(cur, now, count):
    contacts_before, sources_before = count("contacts"), count("sources")

    def work(c):
        c.execute("INSERT INTO sources (name, channel, position) VALUES ('Facebook', 'other', 7)")
        c.execute("INSERT INTO contacts (last_name, sort_name, created_at, updated_at)"
                  " VALUES ('Half', 'half, ', ?, ?)", [now, now])
        raise RuntimeError("the page crashed half way")

    with pytest.raises(RuntimeError, match="half way"):
        db.write(cur, work)
    assert count("contacts") == contacts_before
    assert count("sources") == sources_before
    # and the cursor is usable again (no transaction left open)
    assert db.write(cur, lambda c: c.execute("SELECT 41 + 1").fetchall()[0][0]) == 42


def test_a_failing_statement_rolls_back_the_earlier_ones(cur, count):
    before = count("sources")

    def work(c):
        c.execute("INSERT INTO sources (name, channel, position) VALUES ('Facebook', 'other', 7)")
        c.execute("INSERT INTO sources (name, channel, position) VALUES ('mobile.de', 'other', 8)")

    with pytest.raises(Exception, match="(?i)constraint"):
        db.write(cur, work)
    assert count("sources") == before
    assert cur.execute("SELECT count(*) FROM sources WHERE name = 'Facebook'").fetchall()[0][0] == 0


def test_a_successful_unit_of_work_commits_and_returns_its_value(con, cur):
    new_id = db.write(cur, lambda c: c.execute(
        "INSERT INTO sources (name, channel, position) VALUES ('Facebook', 'other', 7) RETURNING id"
    ).fetchall()[0][0])
    # visible from another cursor, i.e. committed
    other = con.cursor()
    try:
        assert other.execute("SELECT name FROM sources WHERE id = ?", [new_id]).fetchall() == [("Facebook",)]
    finally:
        other.close()


@pytest.mark.duckdb_only("PostgreSQL waits for the row lock instead; test_races covers its retries")
def test_a_write_conflicting_with_an_open_transaction_ends_in_a_plain_conflict(con, cur):
    other = con.cursor()
    other.execute("BEGIN TRANSACTION")
    other.execute("UPDATE sources SET position = 99 WHERE name = 'Phone'")
    attempts = []

    def work(c):
        attempts.append(1)
        c.execute("UPDATE sources SET position = 42 WHERE name = 'Phone'")

    try:
        with pytest.raises(Conflict) as caught:
            db.write(cur, work)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert len(attempts) == 4                      # retried, then gave up
    assert caught.value.message == "Someone else changed the same data at the same moment; please try again."
    assert cur.execute("SELECT position FROM sources WHERE name = 'Phone'").fetchall() == [(4,)]


def test_database_path_comes_from_leadcore_db(monkeypatch, tmp_path):
    monkeypatch.setenv("LEADCORE_DB", str(tmp_path / "x.duckdb"))
    assert db.database_path() == tmp_path / "x.duckdb"
    monkeypatch.delenv("LEADCORE_DB")
    assert db.database_path() == db.PROJECT_ROOT / "data" / "leadcore.duckdb"   # the project's, wherever we run
