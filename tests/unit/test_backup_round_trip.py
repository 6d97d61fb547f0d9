"""A backup of 100,000 demo leads restored into a new file is the same database: every table
with the same rows (count and a checksum over every column), views and macros working, and
every sequence continuing where the original's would (a new lead gets a fresh id)."""
from __future__ import annotations

import time

import pytest

from leadcore import db, demo
from leadcore.admin import backup, restore, users
from leadcore.leads import service as leads

pytestmark = pytest.mark.duckdb_only("backups are DuckDB's EXPORT DATABASE; PostgreSQL is backed up with pg_dump")

LEADS = 100_000


def _tables(cur) -> list[str]:
    return [name for (name,) in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal ORDER BY 1").fetchall()]


def _fingerprint(cur, table: str) -> tuple:
    # hash() of the whole row struct: any changed value, NULL or type shows up in the sum.
    return cur.execute(f'SELECT count(*), sum(hash("{table}")) FROM "{table}"').fetchall()[0]


def _objects(cur, kind: str) -> list[str]:
    """Names of this database's own views, sequences, indexes or macros."""
    source = "function_name FROM duckdb_functions() WHERE function_type = 'macro' AND" if kind == "macro" \
        else f"{kind}_name FROM duckdb_{kind}{'es' if kind == 'index' else 's'}() WHERE"
    return sorted(name for (name,) in cur.execute(
        f"SELECT {source} database_name = current_database() AND schema_name = 'main'").fetchall())


@pytest.fixture
def original(db_path, now):
    con = db.connect(db_path)
    demo.generate(con, now, LEADS, seed=7)
    yield con
    con.close()


def test_every_table_is_equal_after_backup_and_restore(original, now, tmp_path):
    started = time.perf_counter()
    folder = backup.backup(original, tmp_path / "backups", now, actor=backup.SYSTEM)
    restore.restore(folder, tmp_path / "restored.duckdb", now=now)
    restored = db.connect(tmp_path / "restored.duckdb")
    elapsed = time.perf_counter() - started
    try:
        a, b = original.cursor(), restored.cursor()
        assert _tables(a) == _tables(b) and "leads" in _tables(a)
        assert a.execute("SELECT count(*) FROM leads").fetchall()[0][0] == LEADS
        for table in _tables(a):
            if table == "audit_log":   # the restore appends its own row there
                continue
            assert _fingerprint(a, table) == _fingerprint(b, table), table
        assert b.execute("SELECT count(*) FROM audit_log WHERE action = 'restore'").fetchall()[0][0] == 1
        for kind in ("view", "sequence", "index", "macro"):
            assert _objects(a, kind) == _objects(b, kind), kind
        assert a.execute("SELECT count(*) FROM explore_leads").fetchall() == \
            b.execute("SELECT count(*) FROM explore_leads").fetchall()

        # Sequences continue: the same next value in both, for every sequence...
        for name in _objects(a, "sequence"):
            if name == "audit_id_seq":
                continue
            assert a.execute(f"SELECT nextval('{name}')").fetchall() == \
                b.execute(f"SELECT nextval('{name}')").fetchall(), name
        # ... and a lead created after the restore gets an id no lead had.
        admin = users.add_user(b, now, "restorer", "Rita Restore", "rita@autohaus.example", "admin",
                               "long enough password")
        contact_id, source_id = b.execute("SELECT min(id) FROM contacts").fetchall()[0][0], \
            b.execute("SELECT min(id) FROM sources").fetchall()[0][0]
        top = b.execute("SELECT max(id) FROM leads").fetchall()[0][0]
        new_id = leads.create_lead(b, admin, now, leads.LeadInput(
            contact_id=contact_id, source_id=source_id, lead_type="new_car", subject="After the restore",
            editor_id=admin.id))
        assert new_id > top
    finally:
        restored.close()
    print(f"backup + restore of {LEADS:,} leads: {elapsed:.1f} s")
    assert elapsed < 30
