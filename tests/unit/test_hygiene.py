"""Input hygiene (issue 11): what a clumsy or hostile hand types is refused with a field message,
never stored as junk and never a crash deeper down."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from leadcore import auth, hygiene
from leadcore.admin import absences, basic, holidays, reasons, settings, sources, users, working_time
from leadcore.contacts import service as contacts
from leadcore.errors import ValidationErrors
from leadcore.leads import messages, vehicles
from leadcore.leads import service as leads
from leadcore.mail import templates

BAD_TEXT = {
    "line break": "Anna\r\nBcc: all@example.de",
    "NUL": "Anna\x00",
    "C1 control": "Anna\x85x",
    "zero-width only": "\u200b\u200d\ufeff",
    "lone surrogate": "Anna\ud800",
}


def _fields(call) -> dict[str, str]:
    with pytest.raises(ValidationErrors) as caught:
        call()
    return caught.value.by_field()


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_hygiene_refuses_text_nobody_means(kind):
    errors = []
    hygiene.check_text(errors, "name", "Name", BAD_TEXT[kind], required=True)
    assert [e.field for e in errors] == ["name"]


def test_notes_keep_their_lines_and_tabs():
    errors = []
    assert hygiene.check_text(errors, "note", "Note", " a\r\n\tb ", multiline=True) == "a\n\tb"
    assert errors == []
    hygiene.check_text(errors, "note", "Note", "a\x00b", multiline=True)
    assert errors and errors[0].message == "Note contains a control character; remove it."


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_names_of_every_kind_refuse_bad_text(cur, now, manager, make_lead, seller, kind):
    text = BAD_TEXT[kind]
    assert "subject" in _fields(lambda: make_lead(seller, subject=text))
    assert "last_name" in _fields(lambda: contacts.create_contact(cur, manager, now, contacts.ContactInput(last_name=text)))
    assert "username" in _fields(lambda: users.create_user(
        cur, manager, now, text, users.UserInput("Neu", "neu@example.de", "seller"), "long enough"))
    assert "full_name" in _fields(lambda: users.create_user(
        cur, manager, now, "neu", users.UserInput(text, "neu@example.de", "seller"), "long enough"))
    assert "name" in _fields(lambda: sources.add_source(cur, manager, now, text, "website"))
    assert "label" in _fields(lambda: reasons.add_reason(cur, manager, now, text, "lost"))
    assert "name" in _fields(lambda: holidays.add_closure(cur, manager, now, text, date(2027, 6, 1)))
    assert "email_from_name" in _fields(lambda: basic.update_basic_settings(
        cur, manager, now, replace(settings.basic_settings(cur), email_from_name=text)))
    assert cur.execute("SELECT count(*) FROM users WHERE username = 'neu'").fetchall() == [(0,)]


def test_a_note_may_have_lines_but_no_control_characters(cur, now, seller, make_lead):
    lead = make_lead(seller)
    later = now + timedelta(days=1)
    leads.add_note(cur, seller, now, lead, "Called.\nCall again Monday.", later)
    assert "note" in _fields(lambda: leads.add_note(cur, seller, now, lead, "Called\x07", later))
    assert "note" in _fields(lambda: leads.add_note(cur, seller, now, lead, "\u200b", later))


def test_a_resubmission_in_year_9999_is_a_field_message(cur, now, seller, make_lead):
    lead = make_lead(seller)
    far = datetime(9999, 12, 31, 12, 0, tzinfo=timezone.utc)
    assert "resubmission" in _fields(lambda: leads.set_resubmission(cur, seller, now, lead, far))
    assert "resubmission" in _fields(lambda: leads.add_note(cur, seller, now, lead, "x", far))
    assert "resubmission" in _fields(lambda: make_lead(seller, resubmission_at=far))


def test_numbers_outside_their_columns_are_field_messages(cur, now, seller, manager, contact, source_ids):
    data = leads.LeadInput(contact.id, source_ids["mobile.de"], "new_car", "Golf", seller.id,
                           vehicle=vehicles.Vehicle(make="VW", price=Decimal("1e20")))
    assert "price" in _fields(lambda: leads.create_lead(cur, seller, now, data))
    assert "editor" in _fields(lambda: leads.create_lead(cur, seller, now, replace(data, vehicle=None, editor_id=10**30)))
    assert "superiors" in _fields(lambda: users.create_user(
        cur, manager, now, "neu", users.UserInput("Neu", "neu@example.de", "seller", superior_ids=(10**30,)),
        "long enough"))


def test_holidays_and_absences_stay_within_sane_years(cur, now, manager, seller):
    assert "first_day" in _fields(lambda: holidays.add_closure(cur, manager, now, "Year one", date(1, 1, 1)))
    assert "first_day" in _fields(lambda: holidays.add_closure(cur, manager, now, "Far", date(9999, 12, 30)))
    assert "ends_on" in _fields(lambda: absences.add_absence(
        cur, seller, now, seller.id, date(2027, 1, 4), date(9999, 1, 1)))
    assert "starts_on" in _fields(lambda: absences.add_absence(
        cur, seller, now, seller.id, date(9999, 1, 1), date(9999, 1, 2)))


def test_a_template_nested_120_deep_is_a_field_message(cur, now, manager):
    deep = "{% if contact.last_name %}" * 120 + "x" + "{% endif %}" * 120
    t = templates.default_template(cur)
    draft = templates.TemplateDraft(None, t.autoresponder_subject, deep, t.autoresponder_footer_html,
                                    t.general_footer_html, t.banner_colour)
    assert "autoresponder_html" in _fields(lambda: templates.save_template(cur, manager, now, draft))


def test_a_message_whose_mail_would_fail_is_refused_before_the_due_moves(cur, now, seller, make_lead, contact):
    # A name stored before the hygiene rules (or by hand): a line break in the To header.
    cur.execute("UPDATE contacts SET first_name = 'Max\r\nBcc: x@example.de' WHERE id = ?", [contact.id])
    lead = make_lead(seller)
    due_before = cur.execute("SELECT due_at, resubmission_at FROM leads WHERE id = ?", [lead]).fetchall()
    assert "recipient" in _fields(lambda: messages.queue_message(cur, seller, now, lead, "Hallo", "<p>Text</p>"))
    assert cur.execute("SELECT due_at, resubmission_at FROM leads WHERE id = ?", [lead]).fetchall() == due_before
    assert cur.execute("SELECT count(*) FROM outbox WHERE lead_id = ?", [lead]).fetchall() == [(0,)]
    assert cur.execute("SELECT count(*) FROM lead_events WHERE lead_id = ? AND kind = 'message'",
                       [lead]).fetchall() == [(0,)]


def test_working_hours_that_leave_stage1_no_room_name_the_working_hours(cur, now, manager, make_lead, seller):
    make_lead(seller)
    working_time.update_escalation_times(cur, manager, now, replace(settings.escalation_times(cur),
                                                                     stage1_minutes=14 * 24 * 60))
    sparse = [("09:00", "11:00"), None, None, None, None, None, None]   # two hours a week
    errors = _fields(lambda: working_time.update_working_hours(cur, manager, now, sparse))
    assert list(errors) == ["working_hours"] and "working hours" in errors["working_hours"]
    assert settings.working_hours(cur)[1] is not None          # nothing was stored


def test_closing_nearly_everything_names_the_closure(cur, now, manager):
    working_time.update_escalation_times(cur, manager, now, replace(settings.escalation_times(cur),
                                                                     stage1_minutes=14 * 24 * 60))
    working_time.update_working_hours(cur, manager, now, [("09:00", "12:00")] + [None] * 6)
    start = now.date()
    errors = _fields(lambda: holidays.add_closure(cur, manager, now, "Umbau", start, start + timedelta(days=365)))
    assert list(errors) == ["first_day"]
    assert holidays.list_closures(cur) == []


@pytest.mark.parametrize("query", ["04109", "Autohaus 2000", "2000", "0341 1234567"])
def test_a_search_with_digits_finds_names_postal_codes_and_phones(cur, now, query):
    found = contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(
        company="Autohaus 2000", postal_code="04109", city="Leipzig", phone="0341 1234567"))
    page = contacts.search_contacts(cur, query)
    assert found.id in page.rows["id"].tolist()
    assert contacts.count_contacts(cur, query) >= 1
