"""Bulk actions from the Leads list: one transaction, one event per lead, refusals named."""
from __future__ import annotations

import pytest

from leadcore.admin import reasons
from leadcore.errors import PermissionDenied, ValidationErrors
from leadcore.leads import service as leads


def _events(cur, kind: str) -> list[int]:
    return [r[0] for r in cur.execute(
        "SELECT lead_id FROM lead_events WHERE kind = ? ORDER BY lead_id", [kind]).fetchall()]


def test_change_editor_of_several_leads_writes_one_event_each(cur, now, seller, seller2, supervisor, make_lead):
    ids = [make_lead(seller, subject=f"Lead {i}") for i in range(3)]
    result = leads.bulk_change_editor(cur, supervisor, now, ids, seller2.id)
    assert result.changed == tuple(ids) and result.refused == {}
    assert _events(cur, "editor") == ids
    editors = {r[0] for r in cur.execute("SELECT editor_id FROM leads").fetchall()}
    assert editors == {seller2.id}


def test_leads_the_user_may_not_change_are_refused_and_named(cur, now, seller, seller2, make_lead):
    mine = make_lead(seller)
    theirs = make_lead(seller2)
    result = leads.bulk_set_resubmission(cur, seller, now, [mine, theirs, 999_999], None)
    assert result.changed == (mine,)
    assert set(result.refused) == {theirs, 999_999}
    assert "may not change" in result.refused[theirs]
    assert _events(cur, "resubmission") == [mine]


def test_completed_leads_are_refused_by_bulk_complete(cur, now, berlin, seller, make_lead):
    sold = reasons.list_reasons(cur)[0].id
    done = make_lead(seller)
    leads.complete(cur, seller, now, done, sold)
    open_one = make_lead(seller)
    result = leads.bulk_complete(cur, seller, berlin("2026-11-27 11:00"), [done, open_one], sold)
    assert result.changed == (open_one,)
    assert "reopen it first" in result.refused[done]
    assert _events(cur, "completed") == [done, open_one]


def test_bad_input_refuses_the_whole_action_before_anything_is_written(cur, now, berlin, seller, make_lead, count):
    ids = [make_lead(seller) for _ in range(2)]
    before = count("lead_events")
    with pytest.raises(ValidationErrors) as error:
        leads.bulk_set_resubmission(cur, seller, now, ids, berlin("2026-11-26 09:00"))
    assert "resubmission" in error.value.by_field()
    with pytest.raises(ValidationErrors) as error:
        leads.bulk_complete(cur, seller, now, ids, None)
    assert "reason" in error.value.by_field()
    assert count("lead_events") == before


def test_a_failing_write_leaves_every_lead_unchanged(cur, now, seller, seller2, make_lead, monkeypatch):
    ids = [make_lead(seller) for _ in range(3)]
    calls = []
    original = leads.append_event

    def failing_event(c, lead_id, *args):
        calls.append(lead_id)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        original(c, lead_id, *args)

    monkeypatch.setattr(leads, "append_event", failing_event)
    with pytest.raises(RuntimeError):
        leads.bulk_change_editor(cur, seller, now, ids, seller2.id)
    assert {r[0] for r in cur.execute("SELECT editor_id FROM leads").fetchall()} == {seller.id}
    assert _events(cur, "editor") == []


def test_analysts_cannot_bulk_change(cur, now, seller, analyst, make_lead):
    lead = make_lead(seller)
    with pytest.raises(PermissionDenied):
        leads.bulk_complete(cur, analyst, now, [lead], reasons.list_reasons(cur)[0].id)
