"""The Notifications page: the badge in the navigation, the list, mark as read, open the lead."""
from __future__ import annotations

from datetime import timedelta

import pytest

from leadcore.leads import escalation

NOTIFICATIONS = "pages/notifications.py"


@pytest.fixture
def escalated(cur, people, make_lead, now):
    """Anna's lead, arrived yesterday: overdue, stage 2 passed; the sweep told Anna and Clara."""
    lead = make_lead(people.anna, at=now - timedelta(days=1), subject="Passat trade-in")
    escalation.sweep(cur, now)
    return lead


def test_the_badge_counts_unread_notifications(people, escalated, open_app, ui):
    at = open_app(people.clara, page=NOTIFICATIONS)
    assert not at.exception
    assert at.title[0].value == "Notifications"
    shown = " ".join(ui.texts(at))
    assert "Stage 2: escalated to you" in shown and "Passat trade-in" in shown


def test_a_seller_sees_only_her_own_notifications(people, escalated, open_app, ui):
    at = open_app(people.ben, page=NOTIFICATIONS)
    assert not at.exception
    assert "Passat trade-in" not in " ".join(ui.texts(at))
    assert [i.value for i in at.info] == ["Nothing to do here: no notifications."]


def test_opening_a_notification_marks_it_read_and_shows_the_lead(people, escalated, open_app, cur, ui):
    at = open_app(people.clara, page=NOTIFICATIONS)
    (notification_id,) = cur.execute(
        "SELECT id FROM notifications WHERE recipient_id = ?", [people.clara.id]).fetchall()[0]
    at.button(key=f"open_notification_{notification_id}").click().run()
    assert not at.exception
    assert at.query_params["lead"] in (str(escalated), [str(escalated)])
    assert cur.execute("SELECT read_at IS NOT NULL FROM notifications WHERE id = ?",
                       [notification_id]).fetchall() == [(True,)]
    assert [h.value for h in at.subheader] == [f"#{escalated} · Passat trade\\-in"]   # Markdown-escaped


def test_mark_all_as_read_empties_the_unread_list(people, escalated, open_app, cur):
    at = open_app(people.anna, page=NOTIFICATIONS)
    assert cur.execute("SELECT count(*) FROM notifications WHERE recipient_id = ? AND read_at IS NULL",
                       [people.anna.id]).fetchall() == [(1,)]      # stage 1 (the reminder passed unseen)
    at.button(key="mark_all_read").click().run()
    assert not at.exception
    assert cur.execute("SELECT count(*) FROM notifications WHERE recipient_id = ? AND read_at IS NULL",
                       [people.anna.id]).fetchall() == [(0,)]
    assert [s.value for s in at.success] == ["1 notification marked as read."]


def test_analysts_have_no_notifications_page(people, open_app):
    at = open_app(people.eva)
    assert not at.exception
    with pytest.raises(Exception):
        at.switch_page(NOTIFICATIONS).run()


def test_a_lead_handed_over_shows_no_customer_and_cannot_be_opened(people, escalated, open_app, cur,
                                                                   now, ui):
    from leadcore.leads import service as leads

    at = open_app(people.anna, page=NOTIFICATIONS)
    [notification_id] = [r[0] for r in cur.execute(
        "SELECT id FROM notifications WHERE recipient_id = ?", [people.anna.id]).fetchall()]
    assert at.button(key=f"open_notification_{notification_id}")
    leads.change_editor(cur, people.clara, now, escalated, people.ben.id)     # Ben has it now
    at.button(key=f"open_notification_{notification_id}").click().run()    # the stale button
    assert not at.exception
    assert [e.value for e in at.error] == ["This lead was handed to someone else; you may no longer open it."]
    assert "lead" not in at.query_params
    at.toggle(key="notifications_unread_only").set_value(False).run()
    shown = " ".join(ui.texts(at))
    assert f"#{escalated} · Lead handed over" in shown
    assert "Passat trade-in" not in shown and "Mustermann" not in shown
    assert not [b for b in at.button if b.key == f"open_notification_{notification_id}"]
