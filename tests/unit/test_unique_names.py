"""Names people tell apart by eye are unique without regard to case, by constraint (0011)."""
from __future__ import annotations

import duckdb
import pytest

from leadcore import db
from leadcore.admin import reasons, sources, users
from leadcore.errors import ValidationErrors


def _back_to_0010(path):
    """A database as it was before 0011, as an existing dealership's file is."""
    con = duckdb.connect(str(path))
    for index in ("users_username_nocase", "sources_name_nocase", "completion_reasons_label_nocase"):
        con.execute(f"DROP INDEX {index}")
    con.execute("DELETE FROM schema_version WHERE version = 11")
    return con


@pytest.mark.duckdb_only("upgrades an existing DuckDB file")
def test_the_migration_upgrades_a_database_with_clean_data(db_path, now):
    con = _back_to_0010(db_path)
    con.execute("INSERT INTO users (username, full_name, email, role, password_hash, created_at)"
                " VALUES ('Anna', 'Anna', 'a@example.de', 'seller', 'x', now())")
    con.close()
    con = db.connect(db_path)
    try:
        with pytest.raises(ValidationErrors) as caught:
            users.add_user(con.cursor(), now, "ANNA", "Anna Zwei", "b@example.de", "seller", "long enough")
        assert "username" in caught.value.by_field()
    finally:
        con.close()


@pytest.mark.duckdb_only("upgrades an existing DuckDB file")
def test_the_migration_refuses_twins_and_names_them(db_path):
    con = _back_to_0010(db_path)
    for name in ("Racer0x", "racer0x"):
        con.execute("INSERT INTO users (username, full_name, email, role, password_hash, created_at)"
                    " VALUES (?, 'R', 'r@example.de', 'seller', 'x', now())", [name])
    con.close()
    with pytest.raises(RuntimeError, match="0011_unique_names.*racer0x"):
        db.connect(db_path)
    con = duckdb.connect(str(db_path))     # nothing of 0011 was applied
    assert con.execute("SELECT count(*) FROM schema_version WHERE version = 11").fetchall() == [(0,)]
    con.close()


def test_a_constraint_is_a_field_message_even_past_the_check(cur, now, manager, monkeypatch):
    """Should the friendly check miss a twin, the constraint still holds and reads the same."""
    sources.add_source(cur, manager, now, "Portal", "website")
    other = sources.add_source(cur, manager, now, "Other", "website")
    reasons.add_reason(cur, manager, now, "Elsewhere", "lost")
    monkeypatch.setattr(sources, "_check_name", lambda c, errors, name, source_id: name.strip())
    monkeypatch.setattr(reasons, "_check_label", lambda c, errors, label, reason_id: label.strip())
    for call, field in ((lambda: sources.add_source(cur, manager, now, "PORTAL", "website"), "name"),
                        (lambda: sources.update_source(cur, manager, now, other.id, name="portal"), "name"),
                        (lambda: reasons.add_reason(cur, manager, now, "ELSEWHERE", "lost"), "label")):
        with pytest.raises(ValidationErrors) as caught:
            call()
        assert field in caught.value.by_field()
    assert cur.execute("SELECT count(*) FROM sources WHERE lower(name) = 'portal'").fetchall() == [(1,)]
