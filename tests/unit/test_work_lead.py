"""Working a lead (SPEC section 5): note, resubmission, change editor, complete, reopen, timeline."""
from __future__ import annotations

from datetime import timedelta

import pytest

from leadcore.errors import NotFound, ValidationErrors
from leadcore.leads import detail as lead_detail
from leadcore.leads import service as leads
from leadcore.leads import timeline as lead_timeline


@pytest.fixture
def lead(make_lead, seller) -> int:
    """Arrived Friday 10:00: due 12:00, stage 2 at 16:00 (Berlin)."""
    return make_lead(seller)


@pytest.fixture
def events(cur):
    return lambda lead_id: cur.execute(
        "SELECT kind, detail, user_id, happened_at FROM lead_events WHERE lead_id = ? ORDER BY id",
        [lead_id]).fetchall()


@pytest.fixture
def reason(cur):
    """Completion reason id by code."""
    return lambda code: cur.execute(
        "SELECT id FROM completion_reasons WHERE code = ?", [code]).fetchall()[0][0]


def _errors(call) -> dict[str, str]:
    with pytest.raises(ValidationErrors) as caught:
        call()
    return caught.value.by_field()


# --- add note -------------------------------------------------------------------------------

def test_adding_a_note_clears_the_escalation_and_moves_due(cur, seller, lead, berlin, events):
    late = berlin("2026-11-27 17:00")               # 5 h overdue: stage 2 reached at 16:00
    before = lead_detail.get_lead(cur, seller, late, lead)
    assert (before.traffic_light, before.escalation_level) == ("overdue", 2)

    monday = berlin("2026-11-30 09:00")
    leads.add_note(cur, seller, late, lead, "  Kunde angerufen, Probefahrt Montag.  ", monday)

    after = lead_detail.get_lead(cur, seller, late, lead)
    assert (after.traffic_light, after.escalation_level) == ("on time", 0)
    assert after.resubmission_at == monday
    assert after.times.due_at == monday
    assert after.times.reminder_at == berlin("2026-11-30 08:30")
    assert after.times.stage2_at == berlin("2026-12-01 09:00")     # resubmission stage 2: 24 h
    assert after.times.from_resubmission
    assert after.first_response_at == late
    assert events(lead)[-1] == ("note", "Kunde angerufen, Probefahrt Montag.", seller.id, late)


def test_only_the_first_note_stamps_first_response(cur, seller, lead, berlin):
    first, second = berlin("2026-11-27 10:30"), berlin("2026-11-27 11:00")
    leads.add_note(cur, seller, first, lead, "Angerufen", berlin("2026-11-28 10:00"))
    leads.add_note(cur, seller, second, lead, "Nochmal angerufen", berlin("2026-11-30 10:00"))
    detail = lead_detail.get_lead(cur, seller, second, lead)
    assert detail.first_response_at == first
    assert detail.times.due_at == berlin("2026-11-30 10:00")
    assert cur.execute("SELECT last_activity_at FROM leads WHERE id = ?", [lead]).fetchall()[0][0] == second


@pytest.mark.parametrize("text, resubmission, fields", [
    pytest.param("   ", "future", {"note": "Note is required."}, id="no-text"),
    pytest.param("Angerufen", None, {"resubmission": "Resubmission is required."}, id="no-resubmission"),
    pytest.param("Angerufen", "past", {"resubmission": "Resubmission must be in the future."}, id="past"),
    pytest.param("Angerufen", "now", {"resubmission": "Resubmission must be in the future."}, id="now"),
    pytest.param("n" * 10_001, "future", {"note": "Note can have at most 10,000 characters."}, id="too-long"),
    pytest.param("", None, {"note": "Note is required.", "resubmission": "Resubmission is required."},
                 id="both"),
])
def test_a_note_needs_text_and_a_future_resubmission(cur, now, seller, lead, events, text,
                                                     resubmission, fields):
    when = {"future": now + timedelta(days=1), "past": now - timedelta(seconds=1), "now": now,
            None: None}[resubmission]
    before = events(lead)
    assert _errors(lambda: leads.add_note(cur, seller, now, lead, text, when)) == fields
    assert events(lead) == before
    assert lead_detail.get_lead(cur, seller, now, lead).first_response_at is None


# --- set resubmission -----------------------------------------------------------------------

def test_setting_a_resubmission_moves_due(cur, now, seller, lead, berlin, events):
    tuesday = berlin("2026-12-01 14:00")
    leads.set_resubmission(cur, seller, now, lead, tuesday)
    detail = lead_detail.get_lead(cur, seller, now, lead)
    assert (detail.resubmission_at, detail.times.due_at) == (tuesday, tuesday)
    assert detail.times.stage2_at == berlin("2026-12-02 14:00")
    assert detail.first_response_at is None           # planning is not a response to the customer
    assert events(lead)[-1] == ("resubmission", tuesday.isoformat(), seller.id, now)


def test_clearing_the_resubmission_falls_back_to_arrival_plus_stage1(cur, now, seller, lead, berlin, events):
    leads.set_resubmission(cur, seller, now, lead, berlin("2026-12-01 14:00"))
    leads.set_resubmission(cur, seller, now, lead, None)
    detail = lead_detail.get_lead(cur, seller, now, lead)
    assert detail.resubmission_at is None
    assert detail.times.due_at == berlin("2026-11-27 12:00")
    assert detail.times.stage2_at == berlin("2026-11-27 16:00")
    assert not detail.times.from_resubmission
    assert events(lead)[-1][:2] == ("resubmission", "cleared (due by arrival + stage 1)")


def test_a_resubmission_in_the_past_is_refused(cur, now, seller, lead, events):
    before = events(lead)
    assert _errors(lambda: leads.set_resubmission(cur, seller, now, lead, now - timedelta(hours=1))) == {
        "resubmission": "Resubmission must be in the future."}
    assert events(lead) == before


# --- change editor --------------------------------------------------------------------------

def test_changing_the_editor_hands_the_lead_over_and_names_the_new_editor(cur, now, seller, seller2,
                                                                         supervisor, lead, events):
    leads.change_editor(cur, supervisor, now, lead, seller2.id)
    detail = lead_detail.get_lead(cur, seller2, now, lead)
    assert (detail.editor_id, detail.editor) == (seller2.id, "Ben Schulz")
    assert events(lead)[-1] == ("editor", "Ben Schulz", supervisor.id, now)


def test_the_same_editor_again_is_refused(cur, now, seller, lead, events):
    before = events(lead)
    assert _errors(lambda: leads.change_editor(cur, seller, now, lead, seller.id)) == {
        "editor": "This user is the editor already."}
    assert events(lead) == before


@pytest.mark.parametrize("who", ["inactive", "analyst", "unknown"])
def test_the_new_editor_must_be_an_active_user(cur, now, seller, seller2, analyst, lead, events, who):
    target = {"inactive": seller2.id, "analyst": analyst.id, "unknown": 999}[who]
    if who == "inactive":
        cur.execute("UPDATE users SET active = FALSE WHERE id = ?", [seller2.id])
    assert _errors(lambda: leads.change_editor(cur, seller, now, lead, target)) == {
        "editor": "Editor must be an active user."}
    assert len(events(lead)) == 1
    assert lead_detail.get_lead(cur, seller, now, lead).editor_id == seller.id


# --- complete and reopen --------------------------------------------------------------------

def test_completing_needs_a_reason_and_closes_the_lead(cur, now, seller, lead, reason, berlin, events):
    later = berlin("2026-11-27 11:00")
    leads.complete(cur, seller, later, lead, reason("sold"), "  Vertrag unterschrieben ")
    detail = lead_detail.get_lead(cur, seller, later, lead)
    assert (detail.status, detail.completed_at, detail.completion_reason) == ("completed", later, "Sold")
    assert detail.first_response_at == later
    assert (detail.traffic_light, detail.escalation_level) == (None, 0)
    assert events(lead)[-1] == ("completed", "Sold: Vertrag unterschrieben", seller.id, later)


def test_completing_without_comment_records_just_the_reason(cur, now, seller, lead, reason, events):
    leads.complete(cur, seller, now, lead, reason("no_interest"))
    assert events(lead)[-1][:2] == ("completed", "No interest")


@pytest.mark.parametrize("which", ["none", "hidden", "unknown"])
def test_completing_without_a_visible_reason_is_refused(cur, now, seller, lead, reason, events, which):
    if which == "hidden":
        cur.execute("UPDATE completion_reasons SET hidden = TRUE WHERE code = 'spam'")
    reason_id = {"none": None, "hidden": reason("spam"), "unknown": 999}[which]
    assert _errors(lambda: leads.complete(cur, seller, now, lead, reason_id)) == {
        "reason": "Completion reason is required."}
    assert lead_detail.get_lead(cur, seller, now, lead).status == "open"
    assert len(events(lead)) == 1


def test_a_completed_lead_refuses_notes_resubmissions_and_a_second_completion(cur, now, seller, lead,
                                                                              reason, events):
    leads.complete(cur, seller, now, lead, reason("sold"))
    tomorrow = now + timedelta(days=1)
    message = {"status": "This lead is completed; reopen it first."}
    assert _errors(lambda: leads.add_note(cur, seller, now, lead, "Noch was", tomorrow)) == message
    assert _errors(lambda: leads.set_resubmission(cur, seller, now, lead, tomorrow)) == message
    assert _errors(lambda: leads.complete(cur, seller, now, lead, reason("sold"))) == message
    assert [e[0] for e in events(lead)] == ["created", "completed"]


def test_reopening_needs_a_future_resubmission(cur, now, seller, lead, reason, berlin, events):
    leads.complete(cur, seller, now, lead, reason("bought_elsewhere"))
    for bad in (None, now - timedelta(minutes=5)):
        assert list(_errors(lambda: leads.reopen(cur, seller, now, lead, bad))) == ["resubmission"]
    assert lead_detail.get_lead(cur, seller, now, lead).status == "completed"

    monday = berlin("2026-11-30 11:00")
    leads.reopen(cur, seller, now, lead, monday)
    detail = lead_detail.get_lead(cur, seller, now, lead)
    assert (detail.status, detail.completed_at, detail.completion_reason) == ("open", None, None)
    assert (detail.resubmission_at, detail.times.due_at) == (monday, monday)
    assert detail.traffic_light == "on time"
    assert events(lead)[-1] == ("reopened", monday.isoformat(), seller.id, now)


def test_an_open_lead_cannot_be_reopened(cur, now, seller, lead):
    assert _errors(lambda: leads.reopen(cur, seller, now, lead, now + timedelta(days=1))) == {
        "status": "This lead is open already."}


def test_working_an_unknown_lead_is_not_found(cur, now, seller, manager):
    with pytest.raises(NotFound):
        leads.add_note(cur, seller, now, 999, "x", now + timedelta(days=1))
    with pytest.raises(NotFound):
        lead_detail.get_lead(cur, manager, now, 999)


# --- the event trail ------------------------------------------------------------------------

def test_each_action_appends_exactly_one_event_and_the_timeline_is_newest_first(
        cur, seller, seller2, supervisor, lead, reason, berlin, count):
    steps = [
        ("note", lambda t: leads.add_note(cur, seller, t, lead, "Angerufen", t + timedelta(days=1))),
        ("resubmission", lambda t: leads.set_resubmission(cur, seller, t, lead, t + timedelta(days=2))),
        ("editor", lambda t: leads.change_editor(cur, supervisor, t, lead, seller2.id)),
        ("completed", lambda t: leads.complete(cur, seller2, t, lead, reason("sold"))),
        ("reopened", lambda t: leads.reopen(cur, seller2, t, lead, t + timedelta(days=3))),
    ]
    for minute, (kind, act) in enumerate(steps, start=1):
        before = count("lead_events")
        act(berlin(f"2026-11-27 10:{minute:02d}"))
        assert count("lead_events") == before + 1, kind
        newest = cur.execute("SELECT kind FROM lead_events ORDER BY id DESC LIMIT 1").fetchall()[0][0]
        assert newest == kind

    tl = lead_timeline.timeline(cur, supervisor, lead)
    assert list(tl.columns) == ["happened_at", "who", "kind", "detail"]
    assert list(tl["kind"]) == ["reopened", "completed", "editor", "resubmission", "note", "created"]
    assert list(tl["who"]) == ["Ben Schulz", "Ben Schulz", "Clara Vogt", "Anna Becker", "Anna Becker",
                               "Anna Becker"]
    assert tl["happened_at"].is_monotonic_decreasing


def test_events_in_the_same_instant_keep_their_order_newest_first(cur, now, seller, lead, reason):
    leads.add_note(cur, seller, now, lead, "Angerufen", now + timedelta(days=1))
    leads.complete(cur, seller, now, lead, reason("sold"))
    assert list(lead_timeline.timeline(cur, seller, lead)["kind"]) == ["completed", "note", "created"]


def test_get_lead_shows_the_customer_source_and_texts(cur, now, seller, make_lead, contact):
    lead_id = make_lead(seller, source="Walk-in", lead_type="trade_in", subject="Bewertung Passat",
                        note="Hat Scheckheft dabei")
    d = lead_detail.get_lead(cur, seller, now, lead_id)
    assert (d.contact, d.source, d.lead_type, d.subject, d.note) == (
        contact, "Walk-in", "trade_in", "Bewertung Passat", "Hat Scheckheft dabei")
    assert (d.editor, d.status, d.arrived_at, d.completion_reason) == ("Anna Becker", "open", now, None)


def test_a_lead_of_a_deleted_contact_still_opens(cur, now, seller, lead, contact):
    # delete_contact refuses a contact with open leads; one hidden before that rule (or by a
    # delete racing a new lead) must still open.
    cur.execute("UPDATE contacts SET deleted = TRUE WHERE id = ?", [contact.id])
    d = lead_detail.get_lead(cur, seller, now, lead)
    assert (d.contact.id, d.contact.last_name) == (contact.id, "(deleted contact)")


def test_the_timeline_of_an_unknown_lead_is_not_found(cur, manager):
    with pytest.raises(NotFound):
        lead_timeline.timeline(cur, manager, 999)
