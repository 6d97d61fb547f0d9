"""The audit log: every settings change leaves one row (who, when, what before and after),
written in the change's own transaction; refused changes leave none."""
from __future__ import annotations

import json

import pytest

from leadcore import audit
from leadcore.admin import basic, settings, sources
from leadcore.errors import ValidationErrors


def _rows(cur) -> list[tuple]:
    """Audit rows besides the fixtures' own accounts (adding a user is audited too)."""
    return cur.execute("SELECT user_id, area, entity_id, action, detail FROM audit_log"
                       " WHERE area <> 'users' ORDER BY id").fetchall()


def test_record_stores_who_what_and_the_values_before_and_after(cur, now, manager):
    audit.record(cur, manager, now, "sources", 7, "update", {"name": "Old", "active": True},
                 {"name": "New", "active": True})
    [(user_id, area, entity_id, action, detail)] = _rows(cur)
    assert (user_id, area, entity_id, action) == (manager.id, "sources", "7", "update")
    assert json.loads(detail) == {"before": {"name": "Old", "active": True},
                                  "after": {"name": "New", "active": True}}


def test_record_turns_dates_and_dataclasses_into_json(cur, now, manager):
    times = settings.EscalationTimes(60, 15, 240, 1440)
    audit.record(cur, manager, now, "escalation", "global", "update", None, {"at": now, "times": times})
    detail = json.loads(_rows(cur)[0][4])
    assert detail["before"] is None
    assert detail["after"]["at"] == now.isoformat()
    assert detail["after"]["times"]["stage1_minutes"] == 60


def test_recent_lists_the_newest_first_with_the_name_of_who_did_it(cur, now, manager, admin):
    from datetime import timedelta
    audit.record(cur, manager, now, "sources", 1, "update", {"a": 1}, {"a": 2})
    audit.record(cur, admin, now + timedelta(minutes=1), "reasons", 2, "add", None, {"label": "X"})
    audit.record(cur, None, now + timedelta(minutes=2), "users", 3, "add", None, {"username": "cli"})
    rows = audit.recent(cur, manager, limit=3)
    assert rows["who"].tolist() == ["leadcore", "Frank Admin", "Dirk Hahn"]
    assert rows["area"].tolist() == ["users", "reasons", "sources"]
    # Adding the two accounts (before) was audited as well: the command line did it.
    assert audit.recent(cur, manager, limit=10)["action"].tolist()[3:] == ["add", "add"]
    assert audit.recent(cur, manager, limit=1)["area"].tolist() == ["users"]
    assert audit.recent(cur, manager, limit=10, area="reasons")["entity_id"].tolist() == ["2"]


def test_describe_names_only_what_changed():
    assert audit.describe(audit.detail_json({"name": "A", "active": True}, {"name": "B", "active": True})) \
        == 'name: A → B'
    assert audit.describe(audit.detail_json(None, {"label": "X"})).startswith("+ ")
    assert audit.describe(audit.detail_json({"label": "X"}, None)).startswith("− ")
    assert audit.describe(audit.detail_json([1, 2], [2, 1])) == "[1, 2] → [2, 1]"


def test_a_service_change_writes_exactly_one_audit_row(cur, now, manager, source_ids):
    sources.update_source(cur, manager, now, source_ids["Phone"], name="Telephone")
    [(user_id, area, entity_id, action, detail)] = _rows(cur)
    assert (user_id, area, entity_id, action) == (manager.id, "sources", str(source_ids["Phone"]), "update")
    assert json.loads(detail)["before"]["name"] == "Phone"
    assert json.loads(detail)["after"]["name"] == "Telephone"


def test_a_refused_change_writes_no_audit_row(cur, now, manager, source_ids):
    with pytest.raises(ValidationErrors):
        sources.update_source(cur, manager, now, source_ids["Phone"], name="mobile.de")
    assert _rows(cur) == []


def test_a_change_and_its_audit_row_commit_together(cur, now, manager, monkeypatch):
    """When writing the audit row fails, the setting keeps its old value."""
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    before = settings.basic_settings(cur)
    with pytest.raises(RuntimeError):
        basic.update_basic_settings(cur, manager, now, settings.BasicSettings(email_from_name="Other"))
    assert settings.basic_settings(cur) == before
