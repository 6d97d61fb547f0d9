"""The escalation sweep: each stage once per lead and cycle, to the right people, mails in working hours."""
from __future__ import annotations

from datetime import timedelta

from leadcore import jobs, process
from leadcore.admin import reasons
from leadcore.leads import escalation, notifications
from leadcore.leads import service as leads


def _notified(cur) -> list[tuple]:
    return cur.execute(
        "SELECT lead_id, stage, recipient_id FROM notifications ORDER BY id").fetchall()


def test_nothing_is_recorded_before_the_reminder(cur, seller, make_lead, berlin):
    make_lead(seller)
    result = escalation.sweep(cur, berlin("2026-11-27 11:29"))
    assert result.total == 0 and _notified(cur) == []


def test_each_stage_reaches_its_people_once(cur, seller, supervisor, make_lead, berlin, count):
    lead = make_lead(seller)   # arrives Fri 10:00: reminder 11:30, due 12:00, stage 2 at 16:00
    assert escalation.sweep(cur, berlin("2026-11-27 11:30")).reminder == 1
    assert escalation.sweep(cur, berlin("2026-11-27 11:45")).total == 0
    assert escalation.sweep(cur, berlin("2026-11-27 12:00")).stage1 == 1
    assert escalation.sweep(cur, berlin("2026-11-27 15:59")).total == 0
    result = escalation.sweep(cur, berlin("2026-11-27 16:00"))
    assert (result.stage2, result.mails) == (1, 1)
    assert _notified(cur) == [(lead, "reminder", seller.id), (lead, "stage1", seller.id),
                              (lead, "stage2", supervisor.id)]
    again = escalation.sweep(cur, berlin("2026-11-27 16:05"))
    assert again.total == 0 and again.mails == 0
    assert count("outbox") == 3


def test_a_late_first_sweep_skips_the_stale_reminder(cur, seller, make_lead, berlin):
    make_lead(seller)
    result = escalation.sweep(cur, berlin("2026-11-27 17:00"))
    assert (result.reminder, result.stage1, result.stage2) == (0, 1, 1)


def test_a_lead_worked_before_its_due_is_not_escalated_for_it(cur, seller, make_lead, berlin, now):
    lead = make_lead(seller)
    leads.add_note(cur, seller, berlin("2026-11-27 11:00"), lead, "Called, wants an offer",
                   berlin("2026-11-30 10:00"))
    assert escalation.sweep(cur, berlin("2026-11-27 16:00")).total == 0
    # The new resubmission starts a new cycle: its stages are notified in their turn.
    assert escalation.sweep(cur, berlin("2026-11-30 10:00")).stage1 == 1
    # Stage 2 of a resubmission waits 24 h, not 4 h.
    assert escalation.sweep(cur, berlin("2026-11-30 14:00")).stage2 == 0
    assert escalation.sweep(cur, berlin("2026-12-01 10:00")).stage2 == 1


def test_completed_leads_are_never_notified(cur, seller, make_lead, berlin):
    lead = make_lead(seller)
    leads.complete(cur, seller, berlin("2026-11-27 10:30"), lead, reasons.list_reasons(cur)[0].id)
    assert escalation.sweep(cur, berlin("2026-11-28 10:00")).total == 0


def test_mails_outside_working_hours_wait_for_the_next_period(cur, seller, make_lead, berlin):
    make_lead(seller)
    escalation.sweep(cur, berlin("2026-11-27 19:00"))   # Friday evening: closed
    (send_after,) = {row[0] for row in cur.execute("SELECT send_after FROM outbox").fetchall()}
    assert send_after == berlin("2026-11-28 09:00")     # Saturday opens at 09:00


def test_mails_inside_working_hours_go_at_once_and_are_complete(cur, seller, make_lead, berlin, contact):
    lead = make_lead(seller, subject="Golf 8 GTI, test drive")
    escalation.sweep(cur, berlin("2026-11-27 12:00"))
    row = cur.execute("SELECT send_after, recipient_email, recipient_name, subject, body_text, lead_id "
                      "FROM outbox").fetchall()[0]
    assert row[0] == berlin("2026-11-27 12:00")
    assert row[1:3] == (seller.email, seller.full_name)
    assert row[3] == f"Overdue: lead #{lead} since 27.11.2026 12:00"
    assert "Golf 8 GTI, test drive" in row[4] and "Max Mustermann" in row[4] and row[5] == lead


def test_holidays_record_nothing(cur, seller, make_lead, berlin):
    make_lead(seller)
    cur.execute("INSERT INTO holidays VALUES ('2026-11-28', 'Betriebsausflug')")
    result = escalation.sweep(cur, berlin("2026-11-28 10:00"))
    assert result.skipped == "holiday" and _notified(cur) == []


def test_stage_times_follow_working_hours_across_the_weekend(cur, seller, make_lead, berlin):
    make_lead(seller, at=berlin("2026-11-27 17:30"))   # due Saturday 10:30 (Fri 30 min + Sat 90 min)
    assert escalation.sweep(cur, berlin("2026-11-28 10:29")).stage1 == 0
    assert escalation.sweep(cur, berlin("2026-11-28 10:30")).stage1 == 1


def test_inactive_superiors_get_no_stage2(cur, seller, supervisor, make_lead, berlin):
    make_lead(seller)
    cur.execute("UPDATE users SET active = FALSE WHERE id = ?", [supervisor.id])
    assert escalation.sweep(cur, berlin("2026-11-27 16:00")).stage2 == 0


def test_notifications_are_listed_for_their_recipient_only(cur, seller, seller2, supervisor, make_lead, berlin):
    lead = make_lead(seller)
    escalation.sweep(cur, berlin("2026-11-27 16:00"))
    assert notifications.unread_count(cur, seller) == 1
    assert notifications.unread_count(cur, seller2) == 0
    mine = notifications.list_notifications(cur, supervisor)
    assert mine[["lead_id", "stage"]].values.tolist() == [[lead, "stage2"]]
    assert notifications.mark_read(cur, seller2, berlin("2026-11-27 16:10"),
                                   mine["id"].tolist()) == 0   # not theirs
    assert notifications.mark_read(cur, supervisor, berlin("2026-11-27 16:10"), mine["id"].tolist()) == 1
    assert notifications.unread_count(cur, supervisor) == 0
    assert len(notifications.list_notifications(cur, supervisor, unread_only=True)) == 0


def test_sweep_if_due_throttles_within_a_process(cur, seller, make_lead, berlin, monkeypatch):
    process.reset()
    make_lead(seller)
    assert jobs.sweep_if_due(cur, berlin("2026-11-27 12:00"), min_interval=60) is not None
    assert jobs.sweep_if_due(cur, berlin("2026-11-27 16:00"), min_interval=60) is None
    assert jobs.sweep_if_due(cur, berlin("2026-11-27 16:00"), min_interval=0).stage2 == 1


def test_the_sweep_leaves_due_times_alone(cur, seller, make_lead, berlin):
    lead = make_lead(seller)
    before = cur.execute("SELECT due_at, stage2_at FROM leads WHERE id = ?", [lead]).fetchall()
    escalation.sweep(cur, berlin("2026-11-27 16:00") + timedelta(minutes=1))
    assert cur.execute("SELECT due_at, stage2_at FROM leads WHERE id = ?", [lead]).fetchall() == before
