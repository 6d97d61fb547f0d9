"""Restoring: into a new or empty file, a used one only with --force (kept as .before-restore),
never from something that is not a finished backup, never when the copy does not match its
manifest, and never from inside the app."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from leadcore import db
from leadcore.admin import backup, restore
from leadcore.errors import PermissionDenied, ValidationError

pytestmark = pytest.mark.duckdb_only("backups are DuckDB's EXPORT DATABASE; PostgreSQL is backed up with pg_dump")


@pytest.fixture
def saved(cur, now, admin, make_lead, tmp_path) -> Path:
    """A backup of a database with one admin and two leads."""
    make_lead(admin)
    make_lead(admin)
    return backup.backup(cur, tmp_path / "backups", now, actor=admin)


def _leads(path: Path) -> int:
    con = duckdb.connect(str(path))
    try:
        return con.execute("SELECT count(*) FROM leads").fetchall()[0][0]
    finally:
        con.close()


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_restore_into_a_new_file(saved, now, tmp_path):
    target = tmp_path / "new" / "restored.duckdb"
    done = restore.restore(saved, target, now=now)
    assert done.kept is None and done.backup.path == saved
    assert _leads(target) == 2
    con = db.connect(target)
    try:
        assert con.execute("SELECT action, entity_id, user_id FROM audit_log WHERE action = 'restore'"
                           ).fetchall() == [("restore", saved.name, None)]
    finally:
        con.close()
    assert _files(target.parent) == {"restored.duckdb"}


def test_an_empty_database_file_counts_as_new(saved, now, tmp_path):
    target = tmp_path / "empty.duckdb"
    duckdb.connect(str(target)).close()
    assert restore.restore(saved, target, now=now).kept is None
    assert _leads(target) == 2 and _files(tmp_path) >= {"empty.duckdb"}
    assert not (tmp_path / "empty.duckdb.before-restore").exists()


def test_a_used_database_is_not_replaced_without_force(saved, con, db_path, now, make_lead, admin):
    make_lead(admin)                      # the live database moved on: 3 leads
    con.close()
    with pytest.raises(restore.RestoreRefused, match="already holds a database; add --force"):
        restore.restore(saved, db_path, now=now)
    assert _leads(db_path) == 3 and _files(db_path.parent) == {db_path.name, "backups"}


def test_force_replaces_it_and_keeps_the_old_file(saved, con, db_path, now, make_lead, admin):
    make_lead(admin)
    con.close()
    done = restore.restore(saved, db_path, now=now, force=True)
    kept = db_path.with_name(db_path.name + ".before-restore")
    assert done.kept == kept
    assert _leads(db_path) == 2 and _leads(kept) == 3
    # A second forced restore would overwrite that safety copy: refused until it is moved away.
    with pytest.raises(restore.RestoreRefused, match="from an earlier restore is still there"):
        restore.restore(saved, db_path, now=now, force=True)
    assert _leads(kept) == 3


def test_only_finished_backups_are_restored(saved, now, tmp_path):
    partial = saved.rename(saved.with_name(".partial-" + saved.name))
    with pytest.raises(ValidationError, match="not a finished leadcore backup"):
        restore.restore(partial, tmp_path / "x.duckdb", now=now)
    (partial / "manifest.json").unlink()
    moved = partial.rename(saved)
    with pytest.raises(ValidationError, match="not a finished leadcore backup"):
        restore.restore(moved, tmp_path / "x.duckdb", now=now)
    assert not (tmp_path / "x.duckdb").exists()


def test_a_copy_that_does_not_match_its_manifest_changes_nothing(saved, con, db_path, now):
    con.close()
    manifest = json.loads((saved / "manifest.json").read_text())
    manifest["tables"]["leads"] = 3
    (saved / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(restore.RestoreRefused, match=r"leads: 2 rows, 3 expected"):
        restore.restore(saved, db_path, now=now, force=True)
    assert _leads(db_path) == 2 and _files(db_path.parent) == {db_path.name, "backups"}


def test_a_missing_parquet_file_changes_nothing(saved, now, tmp_path):
    (saved / "leads.parquet").unlink()
    with pytest.raises(restore.RestoreRefused, match="could not be read back"):
        restore.restore(saved, tmp_path / "x.duckdb", now=now)
    assert not (tmp_path / "x.duckdb").exists() and not (tmp_path / "x.duckdb.restoring").exists()


def test_nobody_restores_from_inside_the_app(saved, now, admin, tmp_path):
    with pytest.raises(PermissionDenied, match="command line"):
        restore.restore(saved, tmp_path / "x.duckdb", now=now, actor=admin)
    assert not (tmp_path / "x.duckdb").exists()


def test_a_backup_of_an_older_schema_is_brought_up_to_date(now, tmp_path, monkeypatch):
    every = db._migrations()
    monkeypatch.setattr(db, "_migrations", lambda *_: every[:-1])     # an older leadcore
    old = db.connect(tmp_path / "old.duckdb")
    saved = backup.backup(old, tmp_path / "backups", now, actor=backup.SYSTEM)
    old.close()
    assert backup.read_backup(saved).schema_version == every[-2][0]
    monkeypatch.setattr(db, "_migrations", lambda *_: every)           # restored by this leadcore
    restore.restore(saved, tmp_path / "new.duckdb", now=now)
    con = duckdb.connect(str(tmp_path / "new.duckdb"))
    try:
        assert con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0] == every[-1][0]
    finally:
        con.close()
