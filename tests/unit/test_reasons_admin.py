"""Completion reasons in Settings: system reasons get their own label and can be hidden, never
deleted; own reasons are added, renamed, ordered, hidden; hidden ones leave the completion
choice while completed leads keep theirs."""
from __future__ import annotations

import pytest

from leadcore.admin import reasons
from leadcore.errors import PermissionDenied, ValidationErrors
from leadcore.leads import detail as lead_detail
from leadcore.leads import service as leads


def _labels(cur, include_hidden: bool = False) -> list[str]:
    return [r.label for r in reasons.list_reasons(cur, include_hidden=include_hidden)]


def _id(cur, code: str) -> int:
    return cur.execute("SELECT id FROM completion_reasons WHERE code = ?", [code]).fetchall()[0][0]


def _fields(caught) -> dict[str, str]:
    return caught.value.by_field()


SHIPPED = ["Sold", "Bought elsewhere", "No interest", "Not reachable", "Duplicate", "Spam"]


def test_a_system_reason_gets_its_own_label(cur, now, manager):
    changed = reasons.update_reason(cur, manager, now, _id(cur, "sold"), label="Vehicle sold")
    assert changed.label == "Vehicle sold" and changed.is_system and changed.outcome == "won"
    assert _labels(cur)[0] == "Vehicle sold"


def test_hidden_reasons_leave_the_choice_but_completed_leads_keep_theirs(cur, now, manager, seller, make_lead):
    spam = _id(cur, "spam")
    done = make_lead(seller)
    leads.complete(cur, seller, now, done, spam)
    reasons.update_reason(cur, manager, now, spam, hidden=True)
    assert "Spam" not in _labels(cur)
    assert "Spam" in _labels(cur, include_hidden=True)
    assert lead_detail.get_lead(cur, seller, now, done).completion_reason == "Spam"
    with pytest.raises(ValidationErrors) as caught:
        leads.complete(cur, seller, now, make_lead(seller), spam)
    assert "reason" in _fields(caught)
    reasons.update_reason(cur, manager, now, spam, hidden=False)
    assert "Spam" in _labels(cur)


def test_a_system_reason_is_never_deleted(cur, now, admin):
    with pytest.raises(ValidationErrors) as caught:
        reasons.delete_reason(cur, admin, now, _id(cur, "duplicate"))
    assert _fields(caught) == {"reason": "Duplicate is a system reason and cannot be deleted; hide it instead."}
    assert _labels(cur) == SHIPPED


def test_the_outcome_of_a_system_reason_is_fixed(cur, now, manager):
    with pytest.raises(ValidationErrors) as caught:
        reasons.update_reason(cur, manager, now, _id(cur, "sold"), outcome="lost")
    assert list(_fields(caught)) == ["outcome"]
    # Saving the same outcome (as the form does) is fine.
    assert reasons.update_reason(cur, manager, now, _id(cur, "sold"), outcome="won", label="Sold").outcome == "won"


def test_own_reasons_are_added_at_the_end_with_their_outcome(cur, now, manager):
    added = reasons.add_reason(cur, manager, now, "  Financing refused ", "lost")
    assert (added.label, added.outcome, added.is_system, added.hidden) == ("Financing refused", "lost", False, False)
    assert _labels(cur) == SHIPPED + ["Financing refused"]
    audit = cur.execute("SELECT action FROM audit_log WHERE area = 'reasons'").fetchall()
    assert audit == [("add",)]


@pytest.mark.parametrize("label, outcome, field, message", [
    ("", "won", "label", "Label is required."),
    ("x" * 81, "won", "label", "Label can have at most 80 characters."),
    ("sold", "won", "label", "A completion reason labelled sold exists already."),
    ("Leasing", "maybe", "outcome", "Outcome must be won, lost or neutral."),
])
def test_bad_reasons_name_the_field(cur, now, manager, label, outcome, field, message):
    with pytest.raises(ValidationErrors) as caught:
        reasons.add_reason(cur, manager, now, label, outcome)
    assert _fields(caught) == {field: message}
    assert _labels(cur, include_hidden=True) == SHIPPED


def test_own_reasons_are_renamed_their_outcome_changed_and_ordered(cur, now, manager):
    own = reasons.add_reason(cur, manager, now, "Leasing", "won")
    changed = reasons.update_reason(cur, manager, now, own.id, label="Leasing contract", outcome="neutral")
    assert (changed.label, changed.outcome) == ("Leasing contract", "neutral")
    reasons.move_reason(cur, manager, now, own.id, -1)
    reasons.move_reason(cur, manager, now, own.id, -1)
    assert _labels(cur) == ["Sold", "Bought elsewhere", "No interest", "Not reachable", "Leasing contract",
                            "Duplicate", "Spam"]
    reasons.move_reason(cur, manager, now, _id(cur, "sold"), 1)
    assert _labels(cur)[:2] == ["Bought elsewhere", "Sold"]


def test_an_unused_own_reason_can_be_deleted_a_used_one_only_hidden(cur, now, manager, seller, make_lead):
    unused = reasons.add_reason(cur, manager, now, "Test", "neutral")
    reasons.delete_reason(cur, manager, now, unused.id)
    assert "Test" not in _labels(cur, include_hidden=True)
    used = reasons.add_reason(cur, manager, now, "Leasing", "won")
    leads.complete(cur, seller, now, make_lead(seller), used.id)
    with pytest.raises(ValidationErrors) as caught:
        reasons.delete_reason(cur, manager, now, used.id)
    assert _fields(caught) == {"reason": "1 leads were completed with Leasing, so it cannot be deleted; "
                                         "hide it instead."}
    reasons.update_reason(cur, manager, now, used.id, hidden=True)
    assert "Leasing" not in _labels(cur)


def test_at_least_one_reason_stays_visible(cur, now, manager):
    every = reasons.list_reasons(cur)
    for reason in every[:-1]:
        reasons.update_reason(cur, manager, now, reason.id, hidden=True)
    with pytest.raises(ValidationErrors) as caught:
        reasons.update_reason(cur, manager, now, every[-1].id, hidden=True)
    assert _fields(caught) == {"hidden": "At least one completion reason must stay visible, "
                                         "or no lead could be completed."}


@pytest.mark.parametrize("role", ["seller", "supervisor", "analyst"])
def test_only_managers_and_admins_change_reasons(cur, now, request, role):
    user = request.getfixturevalue(role)
    sold = _id(cur, "sold")
    for attempt in (lambda: reasons.add_reason(cur, user, now, "X", "won"),
                    lambda: reasons.update_reason(cur, user, now, sold, label="Y"),
                    lambda: reasons.update_reason(cur, user, now, sold, hidden=True),
                    lambda: reasons.move_reason(cur, user, now, sold, 1),
                    lambda: reasons.delete_reason(cur, user, now, sold)):
        with pytest.raises(PermissionDenied):
            attempt()
    assert _labels(cur) == SHIPPED
