"""Write message (SPEC sections 4 and 5): a templated e-mail to the lead's customer is queued,
recorded as an event, and counts as working the lead (first response, new due, no escalation)."""
from __future__ import annotations

import pytest

from leadcore import auth
from leadcore.contacts import service as contacts
from leadcore.errors import PermissionDenied, ValidationErrors
from leadcore.leads import detail as lead_detail
from leadcore.leads import messages as lead_messages
from leadcore.leads import service as leads
from leadcore.mail import outbox
from leadcore.mail.html import text_to_html

BODY = text_to_html("Guten Tag {{ contact.salutation }} {{ contact.last_name }},\n\n"
                    "der Golf steht am Montag für Sie bereit.")


@pytest.fixture
def lead(make_lead, seller) -> int:
    """Arrived Friday 10:00: due 12:00, stage 2 at 16:00 (Berlin)."""
    return make_lead(seller)


@pytest.fixture
def outbox_rows(cur):
    return lambda: cur.execute(
        "SELECT kind, recipient_email, recipient_name, subject, body_text, body_html, lead_id, reply_to, status"
        " FROM outbox ORDER BY id").fetchall()


def _errors(call) -> dict[str, str]:
    with pytest.raises(ValidationErrors) as caught:
        call()
    return caught.value.by_field()


def test_a_message_is_queued_recorded_and_works_the_lead(cur, seller, lead, berlin, events, outbox_rows):
    late = berlin("2026-11-27 17:00")                # stage 2 reached at 16:00
    monday = berlin("2026-11-30 09:00")
    assert lead_detail.get_lead(cur, seller, late, lead).escalation_level == 2

    outbox_id = lead_messages.queue_message(cur, seller, late, lead, "  Ihre Probefahrt  ", BODY, monday)

    after = lead_detail.get_lead(cur, seller, late, lead)
    assert (after.traffic_light, after.escalation_level) == ("on time", 0)
    assert after.resubmission_at == after.times.due_at == monday
    assert after.first_response_at == late
    kind, detail, user_id = events(lead)[-1][:3]
    assert (kind, user_id) == ("message", seller.id)
    assert detail == ("To max.mustermann@example.de: Ihre Probefahrt\n\n"
                      "Guten Tag Herr Mustermann,\n\nder Golf steht am Montag für Sie bereit.")
    ((kind, to, name, subject, text, html, lead_id, reply_to, status),) = outbox_rows()
    assert outbox_id > 0
    assert (kind, to, name, subject, lead_id, reply_to, status) == (
        "message", "max.mustermann@example.de", "Max Mustermann", "Ihre Probefahrt", lead, "anna@autohaus.example",
        "queued")
    assert text.startswith("Guten Tag Herr Mustermann,\n\nder Golf steht am Montag für Sie bereit.\n\n")
    assert "Anna Becker" in text                                   # the template's seller footer
    assert "<p>Guten Tag Herr Mustermann,</p>" in html and html.startswith("<!DOCTYPE html>")


def test_without_a_resubmission_the_lead_is_due_one_stage_1_after_the_message(cur, seller, lead, berlin):
    late = berlin("2026-11-27 17:00")                # Friday; working hours end 18:00, Saturday 09-13
    lead_messages.queue_message(cur, seller, late, lead, "Ihre Anfrage", BODY)
    after = lead_detail.get_lead(cur, seller, late, lead)
    assert after.times.due_at == berlin("2026-11-28 10:00")        # 1 h Friday + 1 h Saturday
    assert after.resubmission_at == after.times.due_at and after.escalation_level == 0


def test_only_the_first_work_stamps_first_response(cur, seller, lead, berlin):
    first, second = berlin("2026-11-27 10:30"), berlin("2026-11-27 11:00")
    lead_messages.queue_message(cur, seller, first, lead, "Eins", BODY)
    lead_messages.queue_message(cur, seller, second, lead, "Zwei", BODY)
    assert lead_detail.get_lead(cur, seller, second, lead).first_response_at == first


def test_the_writer_signs_the_message(cur, supervisor, lead, now, outbox_rows):
    lead_messages.queue_message(cur, supervisor, now, lead, "Vertretung", BODY)
    (row,) = outbox_rows()
    assert "Clara Vogt" in row[4] and "Anna Becker" not in row[4]
    assert row[7] == "clara@autohaus.example"


def test_a_script_typed_or_smuggled_into_the_body_is_not_sent(cur, seller, lead, now, outbox_rows):
    typed = text_to_html("<script>alert(1)</script> Hallo")
    smuggled = '<p onclick="x()">Hallo</p><script>alert(2)</script><a href="javascript:alert(3)">Link</a>'
    lead_messages.queue_message(cur, seller, now, lead, "Eins", typed)
    lead_messages.queue_message(cur, seller, now, lead, "Zwei", smuggled)
    (_k, _t, _n, _s, _x, typed_html, *_), (_k2, _t2, _n2, _s2, _x2, smuggled_html, *_) = outbox_rows()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Hallo" in typed_html
    for forbidden in ("<script", "onclick", "javascript:"):
        assert forbidden not in typed_html and forbidden not in smuggled_html


def test_bad_input_is_named_and_nothing_is_stored(cur, seller, lead, now, berlin, events, outbox_rows, lead_row):
    before = lead_row(lead)
    assert _errors(lambda: lead_messages.queue_message(cur, seller, now, lead, " ", " ", berlin("2026-11-26 09:00"))) == {
        "subject": "Subject is required.", "body": "Message is required.",
        "resubmission": "Resubmission must be in the future."}
    assert _errors(lambda: lead_messages.queue_message(cur, seller, now, lead, "x" * 201, BODY))["subject"] \
        == "Subject can have at most 200 characters."
    assert _errors(lambda: lead_messages.queue_message(cur, seller, now, lead, "Hallo", "<p>{{ oops </p>"))["body"] \
        .startswith("Line 1:")
    assert _errors(lambda: lead_messages.queue_message(cur, seller, now, lead, "Hallo", "{{ contact.iban }}")) == {
        "body": "Unknown placeholder “contact.iban”."}
    assert [e[0] for e in events(lead)] == ["created"]
    assert outbox_rows() == [] and lead_row(lead) == before


def test_a_customer_without_e_mail_cannot_be_written_to(cur, seller, now, make_lead):
    silent = contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(last_name="Ohnemail", phone="0171 7654321"))
    lead_id = make_lead(seller, contact_id=silent.id)
    assert _errors(lambda: lead_messages.queue_message(cur, seller, now, lead_id, "Hallo", BODY)) == {
        "recipient": "This customer has no e-mail address; add one to the contact first."}


def test_who_may_write(cur, seller, seller2, analyst, manager, lead, now):
    for outsider in (seller2, analyst):
        with pytest.raises(PermissionDenied):
            lead_messages.queue_message(cur, outsider, now, lead, "Hallo", BODY)
        with pytest.raises(PermissionDenied):
            lead_messages.preview_message(cur, outsider, now, lead, "Hallo", BODY)
    lead_messages.queue_message(cur, manager, now, lead, "Hallo", BODY)


def test_a_completed_lead_must_be_reopened_first(cur, seller, lead, now):
    reason = cur.execute("SELECT id FROM completion_reasons WHERE code = 'sold'").fetchall()[0][0]
    leads.complete(cur, seller, now, lead, reason)
    assert _errors(lambda: lead_messages.queue_message(cur, seller, now, lead, "Hallo", BODY)) == {
        "status": "This lead is completed; reopen it first."}


def test_lead_event_and_outbox_row_commit_together(cur, seller, lead, now, events, monkeypatch, lead_row):
    before = lead_row(lead)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "queue", broken)
    with pytest.raises(RuntimeError):
        lead_messages.queue_message(cur, seller, now, lead, "Hallo", BODY)
    assert lead_row(lead) == before and [e[0] for e in events(lead)] == ["created"]


def test_the_preview_shows_the_message_in_the_template(cur, seller, lead, now):
    mail = lead_messages.preview_message(cur, seller, now, lead, "Hallo", BODY)
    assert mail.subject == "Hallo" and "Guten Tag Herr Mustermann" in mail.preview_html
    assert _errors(lambda: lead_messages.preview_message(cur, seller, now, lead, "Hallo", "{% for %}"))["body"]
