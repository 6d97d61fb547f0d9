"""Settings tabs "E-mail templates" and "Outbox", and the lead detail's "Write message" tab, in
Streamlit's test runner: they render, validate, preview, save, queue test mail and retry.

The two settings tabs are driven through a small script that draws them the way
pages/settings.py does (the page lists them once the lead engineer wires them in); the message
tab runs inside the real app's lead detail.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from leadcore.admin import settings
from leadcore.mail import outbox
from leadcore.mail import templates as mail_templates

TEMPLATE = "tpl0"        # widget key prefix of the default template


def _settings_tabs() -> None:
    """The script AppTest runs: both tabs, as the Settings page draws them."""
    import streamlit as st

    from leadcore.ui.outbox_view import outbox_tab
    from leadcore.ui.settings.templates import templates_tab

    templates, mails = st.tabs(["E-mail templates", "Outbox"])
    with templates:
        templates_tab()
    with mails:
        outbox_tab()


@pytest.fixture
def open_tabs(db_path, con, monkeypatch):
    for key in ("LEADCORE_SMTP_HOST", "LEADCORE_SMTP_FROM"):
        monkeypatch.delenv(key, raising=False)

    def start(user) -> AppTest:
        at = AppTest.from_function(_settings_tabs, default_timeout=30)
        at.session_state["user_id"] = user.id
        at.run()
        assert not at.exception, at.exception
        return at

    return start


def _click(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    button.click()
    at.run()
    assert not at.exception, at.exception
    return at


def _preview_html(at: AppTest) -> str:
    [html] = at.html
    return html.proto.body


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_the_tabs_render_with_the_default_template_and_its_preview(by_role, open_tabs, role):
    at = open_tabs(by_role[role])
    assert [t.label for t in at.tabs] == ["E-mail templates", "Outbox"]
    assert at.selectbox(key="tpl_choice").value == 0
    assert at.text_input(key=f"{TEMPLATE}_autoresponder_subject").value.startswith("Thank you for your enquiry")
    assert at.color_picker(key=f"{TEMPLATE}_banner_colour").value == "#1f4e79"
    html = _preview_html(at)
    assert "Dear Herr Mustermann" in html and by_role[role].full_name in html
    assert any(t.value.startswith("Subject: Thank you for your enquiry: VW Golf 8 GTI") for t in at.text)
    assert not at.error
    assert [m.label for m in at.metric] == ["Queued", "Sending", "Sent", "Failed"]
    assert any("SMTP is not configured" in i.value for i in at.info)


def test_template_errors_show_in_the_preview_and_beside_the_field_on_save(people, open_tabs, cur):
    at = open_tabs(people.dirk)
    at.text_area(key=f"{TEMPLATE}_autoresponder_html").input("<p>Hallo {{ contact.last_name </p>")
    at.color_picker(key=f"{TEMPLATE}_banner_colour").pick("#12345")
    at.run()
    assert not at.html
    assert "The preview shows once these are fixed:" in [w.value for w in at.warning]
    messages = [e.value for e in at.error]
    assert any(m.startswith("Autoresponder content: Line 1:") for m in messages)

    before = mail_templates.default_template(cur)
    _click(at, "Save template")
    assert mail_templates.default_template(cur) == before
    assert len([e for e in at.error if e.value.startswith("Autoresponder content: Line 1:")]) == 2


def test_a_script_in_the_template_never_reaches_the_preview(people, open_tabs):
    at = open_tabs(people.dirk)
    at.text_area(key=f"{TEMPLATE}_autoresponder_html").input(
        '<p onmouseover="steal()">Hallo</p><script>alert(1)</script><a href="javascript:alert(2)">x</a>')
    at.run()
    html = _preview_html(at)
    assert "<p>Hallo</p>" in html
    for forbidden in ("<script", "onmouseover", "javascript:"):
        assert forbidden not in html


def test_insert_a_placeholder_then_save(people, open_tabs, cur):
    at = open_tabs(people.dirk)
    at.text_area(key=f"{TEMPLATE}_general_footer_html").input("<p>Ihr Autohaus")
    at.selectbox(key=f"{TEMPLATE}_picker_placeholder").select("dealership.phone")
    at.selectbox(key=f"{TEMPLATE}_picker_target").select(f"{TEMPLATE}_general_footer_html")
    _click(at, "Insert placeholder")
    assert at.text_area(key=f"{TEMPLATE}_general_footer_html").value == "<p>Ihr Autohaus {{ dealership.phone }}"
    at.color_picker(key=f"{TEMPLATE}_banner_colour").pick("#AA0000")
    _click(at, "Save template")
    assert "Template saved." in [s.value for s in at.success]
    saved = mail_templates.default_template(cur)
    assert saved.general_footer_html == "<p>Ihr Autohaus {{ dealership.phone }}"
    assert saved.banner_colour == "#aa0000"


def test_a_source_gets_its_own_template_and_goes_back_to_the_default(people, open_tabs, cur, source_ids):
    mobile = source_ids["mobile.de"]
    at = open_tabs(people.frank)
    at.selectbox(key="tpl_choice").select(mobile)
    at.run()
    assert "Mails about leads of mobile.de use the default template." in [i.value for i in at.info]
    _click(at, "Create an own template for mobile.de")
    at.text_input(key=f"tpl{mobile}_autoresponder_subject").input("Ihre mobile.de-Anfrage: {{ lead.subject }}")
    _click(at, "Save template")
    assert mail_templates.own_template(cur, mobile).autoresponder_subject == "Ihre mobile.de-Anfrage: {{ lead.subject }}"
    assert "mobile.de (own template)" in at.selectbox(key="tpl_choice").options
    _click(at, "Use the default template")
    assert mail_templates.own_template(cur, mobile) is None


def test_send_test_mail_queues_it_to_the_signed_in_user(people, open_tabs, cur):
    at = open_tabs(people.dirk)
    _click(at, "Send test mail")
    assert any(s.value.startswith("Test mail queued to dirk@autohaus.example") for s in at.success)
    [(kind, to, subject, html)] = cur.execute(
        "SELECT kind, recipient_email, subject, body_html FROM outbox").fetchall()
    assert (kind, to) == ("test", "dirk@autohaus.example")
    assert subject.startswith("[Test] Thank you for your enquiry") and "Dirk Hahn" in html


def test_a_seller_cannot_save_templates(people, open_tabs, cur):
    at = open_tabs(people.anna)
    before = mail_templates.default_template(cur)
    _click(at, "Save template")
    assert "Only managers and admins may change the settings." in [e.value for e in at.error]
    assert mail_templates.default_template(cur) == before


def test_dealership_details(people, open_tabs, cur):
    at = open_tabs(people.dirk)
    at.text_input(key="dealership_name").input(" ")
    _click(at, "Save dealership details")
    assert "Dealership name is required." in [e.value for e in at.error]
    at.text_input(key="dealership_name").input("Autohaus Nord")
    at.text_area(key="dealership_address").input("Hauptstraße 1\n10115 Berlin")
    _click(at, "Save dealership details")
    assert settings.dealership(cur).address == "Hauptstraße 1\n10115 Berlin"
    assert "Hauptstraße 1, 10115 Berlin" in _preview_html(at)


def test_a_failed_mail_is_shown_and_sent_again(people, open_tabs, cur, now):
    outbox_id = outbox.queue(cur, now, outbox.OutgoingMail(
        kind="test", recipient_email="x@example.de", recipient_name="X", subject="Hallo", body_text="Hi"))
    cur.execute("UPDATE outbox SET status = 'failed', attempts = 8, last_error = '550 No such user' WHERE id = ?",
                [outbox_id])
    at = open_tabs(people.dirk)
    assert [m.value for m in at.metric] == ["0", "0", "0", "1"]
    [table] = [d.value for d in at.dataframe if "last_error" in d.value.columns]
    assert table["last_error"].tolist() == ["550 No such user"]
    _click(at, "Send again")
    assert "Choose a failed mail first." in [e.value for e in at.error]
    at.selectbox(key="outbox_failed").select(outbox_id)
    _click(at, "Send again")
    assert f"Mail #{outbox_id} queued again." in [s.value for s in at.success]
    assert cur.execute("SELECT status, attempts FROM outbox WHERE id = ?", [outbox_id]).fetchall() == [("queued", 0)]


# --- the lead detail's "Write message" -----------------------------------------------------

def test_write_message_from_the_lead_detail(people, make_lead, open_app, cur, set_moment, local, tomorrow):
    lead_id = make_lead(people.anna, subject="Passat trade-in")
    at = open_app(people.anna, query={"lead": str(lead_id)})
    key = f"lead{lead_id}_message"
    assert "Write message" in [t.label for t in at.tabs]
    assert at.text_input(key=f"{key}_subject").value == "Your enquiry: Passat trade-in"
    at.text_area(key=f"{key}_body").input("Guten Tag {{ contact.salutation }} {{ contact.last_name }},\n\n"
                                          "<b>Ihr</b> Angebot kommt heute.")
    at.run()
    preview = next(h.proto.body for h in at.html)
    assert "Guten Tag Herr Mustermann," in preview and "&lt;b&gt;Ihr&lt;/b&gt;" in preview
    set_moment(at, f"{key}_resub", tomorrow, None)
    _click(at, "Send message")
    assert "Resubmission time is required when a date is set." in [e.value for e in at.error]
    set_moment(at, f"{key}_resub", tomorrow, local("2026-11-28 09:00").time())
    _click(at, "Send message")
    assert any(s.value.startswith("Message to max.mustermann@example.de queued") for s in at.success)
    assert cur.execute("SELECT kind, lead_id FROM outbox").fetchall() == [("message", lead_id)]
    assert cur.execute("SELECT resubmission_at FROM leads WHERE id = ?", [lead_id]).fetchall()[0][0] \
        == local("2026-11-28 09:00")


def test_no_message_form_without_an_e_mail_address(people, make_lead, add_contact, open_app):
    silent = add_contact(last_name="Ohnemail", phone="0171 7654321")
    at = open_app(people.anna, query={"lead": str(make_lead(people.anna, contact_id=silent.id))})
    assert any("no e-mail address" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "Send message"]
