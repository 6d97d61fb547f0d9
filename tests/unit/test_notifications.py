"""Notifications of a lead that was handed to someone the recipient does not follow: the row
stays (it happened), but says nothing of the lead, and opening it is refused."""
from __future__ import annotations

import pytest

from leadcore.errors import NotFound, PermissionDenied
from leadcore.leads import escalation, notifications
from leadcore.leads import service as leads


@pytest.fixture
def escalated(cur, seller, supervisor, make_lead, berlin):
    """Anna's lead, overdue: the sweep told Anna (stage 1)."""
    lead = make_lead(seller, subject="Passat trade-in")
    escalation.sweep(cur, berlin("2026-11-27 16:00"))
    return lead


def test_a_visible_lead_shows_its_subject_and_customer(cur, seller, escalated, now):
    [row] = notifications.list_notifications(cur, seller, now=now).to_dict("records")
    assert (row["lead_id"], row["subject"], row["customer"], row["handed_over"]) == (
        escalated, "Passat trade-in", "Max Mustermann", False)


def test_a_lead_handed_over_keeps_its_notification_but_none_of_its_data(cur, seller, seller2, supervisor,
                                                                      escalated, now):
    leads.change_editor(cur, supervisor, now, escalated, seller2.id)
    [row] = notifications.list_notifications(cur, seller, now=now).to_dict("records")
    assert row["lead_id"] == escalated and row["handed_over"]
    assert all(row[c] is None or row[c] != row[c] for c in ("subject", "customer", "editor", "due_at"))
    # The supervisor follows both sellers: her notification still shows the lead.
    [mine] = notifications.list_notifications(cur, supervisor, now=now).to_dict("records")
    assert (mine["subject"], mine["handed_over"]) == ("Passat trade-in", False)


def test_opening_a_handed_over_lead_is_refused_but_marks_the_notification_read(cur, seller, seller2,
                                                                               supervisor, escalated, now):
    [notification_id] = notifications.list_notifications(cur, seller, now=now)["id"].tolist()
    leads.change_editor(cur, supervisor, now, escalated, seller2.id)
    with pytest.raises(PermissionDenied):
        notifications.open_notification(cur, seller, now, notification_id)
    assert notifications.unread_count(cur, seller) == 0


def test_opening_returns_the_lead_and_marks_it_read(cur, seller, escalated, now):
    [notification_id] = notifications.list_notifications(cur, seller, now=now)["id"].tolist()
    assert notifications.open_notification(cur, seller, now, notification_id) == escalated
    assert notifications.unread_count(cur, seller) == 0


def test_nobody_opens_another_users_notification(cur, seller, seller2, escalated, now):
    [notification_id] = notifications.list_notifications(cur, seller, now=now)["id"].tolist()
    with pytest.raises(NotFound):
        notifications.open_notification(cur, seller2, now, notification_id)
    assert notifications.unread_count(cur, seller) == 1
