"""Creating a lead from a contact (SPEC section 3): what is stored, and what bad input stores."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone

import pytest

from leadcore import auth
from leadcore.contacts import service as contacts
from leadcore.errors import PermissionDenied, ValidationErrors
from leadcore.leads import listing as lead_list
from leadcore.leads import service as leads
from leadcore.leads.listing import LeadFilter
from leadcore.leads.service import LeadInput

UTC = timezone.utc


@pytest.fixture
def good(contact, source_ids, seller) -> LeadInput:
    return LeadInput(contact_id=contact.id, source_id=source_ids["AutoScout24"], lead_type="used_car",
                     subject="  BMW 320d Touring, Inzahlungnahme Golf  ", editor_id=seller.id,
                     note="  Ruft nach 17 Uhr zurück.\n", resubmission_at=None)


def _row(cur, lead_id):
    cols = ["contact_id", "source_id", "lead_type", "subject", "note", "editor_id", "created_by",
            "status", "arrived_at", "resubmission_at", "due_at", "reminder_at", "stage2_at",
            "first_response_at", "last_activity_at", "completed_at", "completion_reason_id"]
    values = cur.execute(f"SELECT {', '.join(cols)} FROM leads WHERE id = ?", [lead_id]).fetchall()[0]
    return dict(zip(cols, values))


def test_a_new_lead_is_stored_with_a_created_event(cur, now, seller, good, count):
    lead_id = leads.create_lead(cur, seller, now, good)
    row = _row(cur, lead_id)
    assert row["contact_id"] == good.contact_id and row["source_id"] == good.source_id
    assert (row["lead_type"], row["subject"], row["note"]) == (
        "used_car", "BMW 320d Touring, Inzahlungnahme Golf", "Ruft nach 17 Uhr zurück.")
    assert (row["editor_id"], row["created_by"], row["status"]) == (seller.id, seller.id, "open")
    assert row["arrived_at"] == now == row["last_activity_at"]
    assert row["first_response_at"] is None and row["completed_at"] is None
    events = cur.execute("SELECT lead_id, happened_at, user_id, kind, detail FROM lead_events").fetchall()
    assert events == [(lead_id, now, seller.id, "created", "BMW 320d Touring, Inzahlungnahme Golf")]
    assert count("leads") == 1


def test_the_new_lead_shows_in_the_list_at_once(cur, now, seller, good, contact):
    lead_id = leads.create_lead(cur, seller, now, good)
    rows = lead_list.list_leads(cur, seller, now, LeadFilter(mine=True)).rows
    assert rows["id"].tolist() == [lead_id]
    assert rows.loc[0, "customer"] == "Max Mustermann"
    assert (rows.loc[0, "source"], rows.loc[0, "editor"], rows.loc[0, "traffic_light"]) == (
        "AutoScout24", "Anna Becker", "on time")


def test_without_resubmission_due_is_arrival_plus_two_working_hours(cur, now, seller, good, berlin):
    row = _row(cur, leads.create_lead(cur, seller, now, good))
    assert row["resubmission_at"] is None
    assert row["due_at"] == berlin("2026-11-27 12:00")
    assert row["reminder_at"] == berlin("2026-11-27 11:30")          # 30 min before due
    assert row["stage2_at"] == berlin("2026-11-27 16:00")            # due + 4 h


def test_a_lead_arriving_friday_evening_is_due_saturday_morning(cur, seller, good, berlin):
    row = _row(cur, leads.create_lead(cur, seller, berlin("2026-11-27 17:30"), good))
    assert row["due_at"] == berlin("2026-11-28 10:30")               # 30 min Fri + 90 min Sat


def test_a_resubmission_sets_due_and_gets_the_resubmission_stage2(cur, now, seller, good, berlin):
    wanted = berlin("2026-11-30 09:00")
    row = _row(cur, leads.create_lead(cur, seller, now, replace(good, resubmission_at=wanted)))
    assert row["resubmission_at"] == wanted
    assert row["due_at"] == wanted
    assert row["reminder_at"] == berlin("2026-11-30 08:30")
    assert row["stage2_at"] == berlin("2026-12-01 09:00")            # due + 24 h
    assert row["due_at"].utcoffset() == timedelta(0)                 # stored as a UTC instant


def test_reminder_follows_the_configured_minutes(cur, now, seller, good, berlin):
    cur.execute("UPDATE settings SET value = '45' WHERE key = 'reminder_minutes'")
    row = _row(cur, leads.create_lead(cur, seller, now, good))
    assert row["reminder_at"] == berlin("2026-11-27 11:15")


def test_the_editor_may_be_another_active_user(cur, now, seller, seller2, good):
    row = _row(cur, leads.create_lead(cur, seller, now, replace(good, editor_id=seller2.id)))
    assert (row["editor_id"], row["created_by"]) == (seller2.id, seller.id)


def test_subject_of_exactly_200_and_note_of_exactly_10000_characters_are_fine(cur, now, seller, good):
    row = _row(cur, leads.create_lead(cur, seller, now, replace(good, subject="s" * 200, note="n" * 10_000)))
    assert len(row["subject"]) == 200 and len(row["note"]) == 10_000


def test_an_empty_note_is_stored_as_none(cur, now, seller, good):
    assert _row(cur, leads.create_lead(cur, seller, now, replace(good, note="  ")))["note"] is None


# --- bad input: a message on the field and nothing stored ----------------------------------

def _make_inactive_source(cur, data):
    cur.execute("UPDATE sources SET active = FALSE WHERE id = ?", [data.source_id])
    return data


def _delete_contact(cur, data, now):
    contacts.delete_contact(cur, auth.SYSTEM, now, data.contact_id)
    return data


def _deactivate_editor(cur, data):
    cur.execute("UPDATE users SET active = FALSE WHERE id = ?", [data.editor_id])
    return data


BAD = {
    "empty-subject": ("subject", "Subject is required.",
                      lambda cur, d, now: replace(d, subject="   ")),
    "subject-201": ("subject", "Subject can have at most 200 characters.",
                    lambda cur, d, now: replace(d, subject="s" * 201)),
    "note-10001": ("note", "Note can have at most 10,000 characters.",
                   lambda cur, d, now: replace(d, note="n" * 10_001)),
    "resubmission-past": ("resubmission", "Resubmission must be in the future.",
                          lambda cur, d, now: replace(d, resubmission_at=now - timedelta(minutes=1))),
    "resubmission-now": ("resubmission", "Resubmission must be in the future.",
                         lambda cur, d, now: replace(d, resubmission_at=now)),
    "inactive-source": ("source", "Source is not active; choose another source.",
                        lambda cur, d, now: _make_inactive_source(cur, d)),
    "unknown-source": ("source", "Source is not active; choose another source.",
                       lambda cur, d, now: replace(d, source_id=999)),
    "contact-deleted-meanwhile": ("contact", "This contact was deleted meanwhile; choose another contact.",
                                  lambda cur, d, now: _delete_contact(cur, d, now)),
    "unknown-contact": ("contact", "This contact was deleted meanwhile; choose another contact.",
                        lambda cur, d, now: replace(d, contact_id=999)),
    "inactive-editor": ("editor", "Editor must be an active user.",
                        lambda cur, d, now: _deactivate_editor(cur, d)),
    "unknown-lead-type": ("lead_type", "Lead type is not one of the known types.",
                          lambda cur, d, now: replace(d, lead_type="boat")),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_the_field_and_stores_nothing(cur, now, manager, good, count, case):
    field, message, spoil = BAD[case]
    data = spoil(cur, good, now)
    before = (count("leads"), count("lead_events"))
    with pytest.raises(ValidationErrors) as caught:
        leads.create_lead(cur, manager, now, data)
    assert caught.value.by_field() == {field: message}
    assert (count("leads"), count("lead_events")) == before == (0, 0)


def test_an_analyst_as_editor_is_refused(cur, now, seller, analyst, good, count):
    with pytest.raises(ValidationErrors) as caught:
        leads.create_lead(cur, seller, now, replace(good, editor_id=analyst.id))
    assert list(caught.value.by_field()) == ["editor"]
    assert count("leads") == 0


def test_several_bad_fields_are_reported_together(cur, now, seller, good, count):
    cur.execute("UPDATE sources SET active = FALSE WHERE id = ?", [good.source_id])
    data = replace(good, subject="", note="n" * 10_001, resubmission_at=now - timedelta(days=1))
    with pytest.raises(ValidationErrors) as caught:
        leads.create_lead(cur, seller, now, data)
    assert set(caught.value.by_field()) == {"source", "subject", "note", "resubmission"}
    assert (count("leads"), count("lead_events")) == (0, 0)


def test_an_analyst_cannot_create_a_lead(cur, now, analyst, good, count):
    with pytest.raises(PermissionDenied):
        leads.create_lead(cur, analyst, now, replace(good, editor_id=analyst.id))
    assert (count("leads"), count("lead_events")) == (0, 0)


def test_a_source_with_its_own_escalation_times_gives_its_leads_their_due(cur, now, seller, good, berlin,
                                                                       source_ids):
    # AutoScout24 leads must be answered within 1 working hour, reminded 10 min before.
    cur.execute("INSERT INTO source_escalation (source_id, stage1_minutes, reminder_minutes)"
                " VALUES (?, 60, 10)", [good.source_id])
    row = _row(cur, leads.create_lead(cur, seller, now, good))
    assert (row["due_at"], row["reminder_at"]) == (berlin("2026-11-27 11:00"), berlin("2026-11-27 10:50"))
    assert row["stage2_at"] == berlin("2026-11-27 15:00")            # stage 2 stays global: 4 h
    other = _row(cur, leads.create_lead(cur, seller, now, replace(good, source_id=source_ids["mobile.de"])))
    assert other["due_at"] == berlin("2026-11-27 12:00")             # mobile.de keeps the defaults


def test_a_vehicle_of_interest_is_stored_checked_and_decoded(cur, now, seller, contact, source_ids):
    from leadcore.leads import vehicles

    lead = leads.create_lead(cur, seller, now, leads.LeadInput(
        contact_id=contact.id, source_id=source_ids["mobile.de"], lead_type="new_car",
        subject="ID.3 Probefahrt", editor_id=seller.id,
        vehicle=vehicles.Vehicle(interest="test_drive", make=" Volkswagen ", model="ID.3", year=2022,
                                 vin="WVWZZZE1ZNP012345")))
    stored = vehicles.get_vehicle(cur, seller, now, lead)
    assert (stored.interest, stored.make, stored.model, stored.year) == ("test_drive", "Volkswagen", "ID.3", 2022)
    assert stored.vin_valid is True and stored.vin_manufacturer == "Volkswagen"


def test_a_bad_vin_is_kept_and_flagged_never_refused(cur, now, seller, contact, source_ids):
    from leadcore.leads import vehicles

    lead = leads.create_lead(cur, seller, now, leads.LeadInput(
        contact_id=contact.id, source_id=source_ids["mobile.de"], lead_type="used_car",
        subject="Golf", editor_id=seller.id, vehicle=vehicles.Vehicle(vin="WVWZZZIOQ")))
    stored = vehicles.get_vehicle(cur, seller, now, lead)
    assert stored.vin == "WVWZZZIOQ" and stored.vin_valid is False and stored.vin_problem
