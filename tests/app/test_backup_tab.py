"""Settings → Backup (admins only): back up now with progress, the list of backups, the nightly
settings, how to restore; and the database path in the admins' sidebar."""
from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from leadcore.admin import backup

SETTINGS = "pages/settings.py"


def _backup_tab(at: AppTest):
    [tab] = [t for t in at.tabs if t.label == "Backup"]
    return tab


def _audit(cur) -> list[tuple]:
    return cur.execute("SELECT user_id, entity_id, action FROM audit_log WHERE area = 'backup' ORDER BY id"
                       ).fetchall()


@pytest.mark.duckdb_only("leadcore's backups are DuckDB exports")
def test_an_admin_backs_up_now_and_sees_the_backup_listed(open_app, people, make_lead, cur, db_path):
    make_lead(people.anna)
    at = open_app(people.frank, page=SETTINGS)
    tab = _backup_tab(at)
    assert any("No backups yet." in i.value for i in tab.info)
    assert "python -m leadcore restore" in tab.code[0].value
    tab.button(key="backup_now").click()
    at.run()
    assert not at.exception, at.exception
    [made] = backup.list_backups()
    assert made.path.parent == db_path.parent / "backups" and made.tables["leads"] == 1
    [status] = _backup_tab(at).status
    assert status.state == "complete" and status.label == f"Backup written: {made.name}"
    [table] = [d.value for d in _backup_tab(at).dataframe if "folder" in d.value.columns]
    assert list(table["folder"]) == [made.name] and list(table["leads"]) == [1]
    assert str(made.path) in _backup_tab(at).code[0].value
    assert _audit(cur) == [(people.frank.id, made.name, "backup")]


@pytest.mark.duckdb_only("leadcore's backups are DuckDB exports")
def test_a_failed_backup_says_why(open_app, people, db_path, monkeypatch):
    (db_path.parent / "backups").write_text("a file where the folder should be")
    at = open_app(people.frank, page=SETTINGS)
    _backup_tab(at).button(key="backup_now").click()
    at.run()
    assert not at.exception
    [status] = _backup_tab(at).status
    assert status.state == "error" and "cannot be written" in status.label


@pytest.mark.duckdb_only("leadcore's backups are DuckDB exports")
def test_the_nightly_settings_are_saved_and_checked(open_app, people, cur, ui):
    at = open_app(people.frank, page=SETTINGS)
    at.session_state["backup_settings_at"] = time(3, 45)
    at.session_state["backup_settings_keep"] = 7
    ui.button(at, "Save backup settings").click()
    at.run()
    assert not at.exception
    assert "Backup settings saved." in [s.value for s in _backup_tab(at).success]
    assert backup.backup_settings(cur) == backup.BackupSettings("03:45", 7)
    assert _audit(cur) == [(people.frank.id, "settings", "update")]


@pytest.mark.duckdb_only("leadcore's backups are DuckDB exports")
def test_managers_do_not_get_the_tab(open_app, people):
    at = open_app(people.dirk, page=SETTINGS)
    assert not at.exception
    assert "Backup" not in [t.label for t in at.tabs]


def _database_captions(at: AppTest) -> list[str]:
    return [c.value.replace("\\", "") for c in at.sidebar.caption if c.value.startswith("Database:")]


def test_admins_see_which_database_the_app_serves(open_app, people, db_path):
    at = open_app(people.frank)
    # (the caption breaks auto-links with word joiners: postgresql:\u2060//...)
    assert [c.replace("\u2060", "") for c in _database_captions(at)] == [f"Database: {db_path}"]


def test_nobody_else_sees_the_database_path(open_app, people):
    assert _database_captions(open_app(None)) == []       # the sign-in page
    for user in (people.dirk, people.anna, people.eva):
        assert _database_captions(open_app(user)) == []


@pytest.mark.duckdb_only("leadcore's backups are DuckDB exports")
def test_backup_folder_is_inside_the_test_folder(db_path):
    assert backup.backup_root() == Path(db_path).parent / "backups"


@pytest.mark.postgres_only
def test_on_postgresql_the_tab_says_whose_backups_apply(open_app, people):
    tab = _backup_tab(open_app(people.frank, page=SETTINGS))
    assert any("pg_dump" in i.value for i in tab.info)
    assert not [b for b in tab.button if b.key == "backup_now"]
