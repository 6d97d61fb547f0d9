"""Backing up: a finished folder with its manifest, never a half backup that looks finished, admins
(and leadcore itself) only, the nightly job once per night, and retention."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from leadcore.admin import backup, users
from leadcore.errors import LeadcoreError, PermissionDenied, ValidationError, ValidationErrors

pytestmark = pytest.mark.duckdb_only("backups are DuckDB's EXPORT DATABASE; PostgreSQL is backed up with pg_dump")


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "backups"
    monkeypatch.setenv("LEADCORE_BACKUP_DIR", str(folder))
    return folder


def _audit(cur) -> list[tuple]:
    return cur.execute("SELECT user_id, area, entity_id, action FROM audit_log "
                       "WHERE area = 'backup' ORDER BY id").fetchall()


def test_a_backup_is_a_finished_folder_with_a_manifest(cur, now, admin, make_lead, root):
    make_lead(admin)
    seen = []
    folder = backup.backup(cur, None, now, progress=lambda f, m: seen.append(f), actor=admin)
    assert folder.parent == root and folder.name == "2026-11-27T090000Z-manual"
    assert {p.name for p in folder.iterdir()} >= {"manifest.json", "schema.sql", "load.sql", "leads.parquet"}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["leads"] == 1 and manifest["tables"]["users"] == 1
    assert manifest["schema_version"] == cur.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]
    assert manifest["kind"] == "manual" and manifest["by"] == "frank"
    assert seen[-1] == 1.0 and seen == sorted(seen)
    [info] = backup.list_backups()
    assert info.path == folder and info.tables == manifest["tables"] and info.size_bytes > 0
    assert _audit(cur) == [(admin.id, "backup", folder.name, "backup")]


def test_two_backups_in_the_same_second_get_two_folders(cur, now, admin, root):
    first = backup.backup(cur, None, now, actor=admin)
    second = backup.backup(cur, None, now, actor=admin)
    assert first != second and second.name == first.name + "-2"
    assert len(backup.list_backups()) == 2


def test_the_target_folder_can_be_given(cur, now, tmp_path, root):
    folder = backup.backup(cur, tmp_path / "elsewhere", now, actor=backup.SYSTEM)
    assert folder.parent == tmp_path / "elsewhere" and not root.exists()
    assert _audit(cur) == [(None, "backup", folder.name, "backup")]   # the system: user_id NULL


def test_a_failing_export_leaves_no_folder_at_all(cur, con, now, admin, root, monkeypatch):
    def crash(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup, "_write_synced", crash)
    with pytest.raises(LeadcoreError, match="No space left on device"):
        backup.backup(cur, None, now, actor=admin)
    assert list(root.iterdir()) == [] and backup.list_backups() == []
    assert _audit(cur) == []


def test_a_crash_before_the_rename_leaves_nothing_that_looks_finished(cur, now, admin, root):
    # What a kill -9 right before the rename leaves: a hidden folder with every file, manifest too.
    folder = backup.backup(cur, None, now, actor=admin)
    leftover = folder.rename(root / (".partial-" + folder.name))
    (root / "notes").mkdir()                                   # and a folder that is no backup
    assert backup.list_backups() == []
    with pytest.raises(ValidationError, match="not a finished leadcore backup"):
        backup.read_backup(leftover)
    with pytest.raises(ValidationError, match="not a finished leadcore backup"):
        backup.read_backup(root / "notes")
    # Retention clears such leftovers once they are surely not a backup still being written.
    assert backup.apply_retention(14, now) == [] and leftover.exists()
    old = (now - timedelta(hours=7)).timestamp()
    os.utime(leftover, (old, old))
    backup.apply_retention(14, now)
    assert not leftover.exists() and (root / "notes").exists()


@pytest.mark.parametrize("role", ["manager", "seller", "analyst"])
def test_only_admins_may_back_up(cur, now, request, role, root):
    user = request.getfixturevalue({"manager": "manager", "seller": "seller", "analyst": "analyst"}[role])
    with pytest.raises(PermissionDenied, match="Only admins"):
        backup.backup(cur, None, now, actor=user)
    assert not root.exists()


def test_a_deactivated_or_demoted_admin_is_refused_at_once(cur, now, admin, root):
    # The caller's User object is stale; the service reads the account again.
    cur.execute("UPDATE users SET role = 'manager' WHERE id = ?", [admin.id])
    with pytest.raises(PermissionDenied):
        backup.backup(cur, None, now, actor=admin)
    cur.execute("UPDATE users SET role = 'admin', active = FALSE WHERE id = ?", [admin.id])
    with pytest.raises(PermissionDenied):
        backup.backup(cur, None, now, actor=admin)
    with pytest.raises(PermissionDenied):
        backup.update_backup_settings(cur, admin, now, "03:00", 7)
    assert not root.exists()                 # refused before anything was written


def test_backup_settings_are_checked_stored_and_audited(cur, now, admin, manager):
    assert backup.backup_settings(cur) == backup.BackupSettings("02:30", 14)
    with pytest.raises(PermissionDenied):
        backup.update_backup_settings(cur, manager, now, "03:00", 7)
    with pytest.raises(ValidationErrors) as bad:
        backup.update_backup_settings(cur, admin, now, "25:00", 0)
    assert set(bad.value.by_field()) == {"nightly_at", "keep_nightly"}
    backup.update_backup_settings(cur, admin, now, "03:15", 7)
    assert backup.backup_settings(cur) == backup.BackupSettings("03:15", 7)
    assert _audit(cur) == [(admin.id, "backup", "settings", "update")]


def _nightly(cur, berlin_time: str) -> Path | None:
    return backup.nightly_backup(cur, datetime.fromisoformat(berlin_time + "+01:00"))


def test_the_nightly_backup_runs_once_per_night_after_its_time(cur, root):
    assert _nightly(cur, "2026-11-27T02:29") is None                # not yet
    first = _nightly(cur, "2026-11-27T02:31")
    assert first is not None and first.name.endswith("-nightly")
    assert _nightly(cur, "2026-11-27T02:32") is None                # done tonight
    assert _nightly(cur, "2026-11-27T23:59") is None
    assert _nightly(cur, "2026-11-28T01:00") is None                # next night, too early
    assert _nightly(cur, "2026-11-28T09:00") is not None            # server was off at 02:30
    assert [b.kind for b in backup.list_backups()] == ["nightly", "nightly"]


def test_retention_keeps_the_newest_nightly_backups_and_every_manual_one(cur, now, admin, root):
    manual = backup.backup(cur, None, now - timedelta(days=30), actor=admin)
    backup.update_backup_settings(cur, admin, now, "02:30", 3)
    made = [_nightly(cur, f"2026-11-{day:02d}T03:00") for day in range(1, 7)]
    kept = backup.list_backups()
    assert [b.path for b in kept] == [made[5], made[4], made[3], manual]
    assert not any(p.exists() for p in made[:3])
    assert ("backup", "retention", "remove") in [row[1:] for row in _audit(cur)]
    assert not list(root.glob(".deleting-*"))


def test_backup_root_is_relative_to_the_project(monkeypatch, tmp_path):
    from leadcore import db

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEADCORE_BACKUP_DIR", "var/backups")
    assert backup.backup_root() == db.PROJECT_ROOT / "var" / "backups"
    monkeypatch.delenv("LEADCORE_BACKUP_DIR")
    assert backup.backup_root() == db.PROJECT_ROOT / "data" / "backups"


def test_the_system_actor_is_no_user():
    assert backup.SYSTEM.id is None and not isinstance(backup.SYSTEM, users.User)


def test_a_backup_killed_at_any_moment_leaves_a_finished_backup_or_none(tmp_path, now):
    """kill -9 of a process in the middle of its backup, at several moments: whatever is listed
    afterwards restores with every row of its manifest; everything else is hidden."""
    import signal
    import subprocess
    import sys
    import time as clock

    from leadcore import db, demo
    from leadcore.admin import restore

    source = tmp_path / "source.duckdb"
    con = db.connect(source)
    demo.generate(con, now, 30_000, seed=7)
    con.close()
    script = ("import sys; from datetime import datetime; from leadcore import db; from leadcore.admin import backup\n"
              "con = db.connect(sys.argv[1]); print('start', flush=True)\n"
              "backup.backup(con, sys.argv[2], datetime.fromisoformat(sys.argv[3]), actor=backup.SYSTEM)\n"
              "print('done', flush=True)\n")
    outcomes = []
    for run, delay in enumerate((0.02, 0.08, 0.25, 1.5)):
        root = tmp_path / f"run{run}"
        child = subprocess.Popen([sys.executable, "-c", script, str(source), str(root), now.isoformat()],
                                 stdout=subprocess.PIPE, text=True, cwd=db.PROJECT_ROOT)
        assert child.stdout.readline().strip() == "start"
        clock.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        finished = backup.list_backups(root)
        assert len(finished) <= 1
        hidden = [p.name for p in root.iterdir() if p.name.startswith(".")] if root.exists() else []
        assert len(finished) + len(hidden) <= 1
        for made in finished:
            restore.restore(made.path, tmp_path / f"restored{run}.duckdb", now=now)
        outcomes.append("finished" if finished else "hidden" if hidden else "nothing")
    print("kill -9 outcomes:", outcomes)
