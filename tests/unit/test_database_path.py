"""Which database file leadcore opens: LEADCORE_DB, relative paths under the project root (never
the directory the server happens to run in), and a log line naming it once per process."""
from __future__ import annotations

import logging

import pytest

from leadcore import db
from leadcore.errors import LeadcoreError


def test_a_relative_path_is_resolved_against_the_project_root(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)            # a server started somewhere else
    monkeypatch.setenv("LEADCORE_DB", "data/other.duckdb")
    assert db.database_path() == db.PROJECT_ROOT / "data" / "other.duckdb"
    assert (db.PROJECT_ROOT / "app.py").is_file()


def test_the_default_lies_in_the_project_too(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEADCORE_DB", raising=False)
    assert db.database_path() == db.PROJECT_ROOT / "data" / "leadcore.duckdb"


def test_absolute_and_home_paths_stay_as_given(monkeypatch, tmp_path):
    monkeypatch.setenv("LEADCORE_DB", str(tmp_path / "x.duckdb"))
    assert db.database_path() == tmp_path / "x.duckdb"
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("LEADCORE_DB", "~/y.duckdb")
    assert db.database_path() == tmp_path / "y.duckdb"


def test_opening_a_database_is_logged_once_per_file(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="leadcore.db")
    path = tmp_path / "logged.duckdb"
    for _ in range(2):
        db.connect(path).close()
    assert [r.getMessage() for r in caplog.records if r.name == "leadcore.db"] == \
        [f"Opened the database {path.resolve()}"]


def test_a_postgresql_url_in_leadcore_db_is_refused_not_made_a_folder(monkeypatch):
    monkeypatch.setenv("LEADCORE_DB", "postgresql://leadcore@db.example:5432/leadcore")
    with pytest.raises(LeadcoreError, match="LEADCORE_DATABASE_URL"):
        db.database_path()
