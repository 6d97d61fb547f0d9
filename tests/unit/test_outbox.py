"""The outbox over real SMTP: a server (aiosmtpd) on 127.0.0.1 started by each test, and what it
received: the autoresponder's HTML and text parts with the inline header graphic, the forwarded
intake file, retries while the server is down, giving up, and no mail lost or doubled by a crash."""
from __future__ import annotations

import email
import socket
from dataclasses import replace
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from test_mail_templates import png  # tests/unit is on sys.path (rootdir import mode)

from leadcore import __main__ as cli
from leadcore import auth, db, process
from leadcore.admin import settings
from leadcore.contacts import service as contacts
from leadcore.errors import Conflict, PermissionDenied, ValidationError
from leadcore.leads import escalation
from leadcore.mail import autoresponder, outbox
from leadcore.mail import smtp as mailer
from leadcore.mail import templates as mail_templates
from leadcore.mail.html import HEADER_IMAGE_CID
from tests import factories

FROM = "leads@autohaus.example"


class Inbox:
    """An aiosmtpd handler that keeps what it accepted and refuses nobody@... for good (550)."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """start(port=None) -> (inbox, port): an SMTP server on 127.0.0.1, stopped after the test."""
    running: list[Controller] = []

    def start(port: int | None = None) -> tuple[Inbox, int]:
        inbox, port = Inbox(), port or free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        running.append(controller)
        return inbox, port

    yield start
    for controller in running:
        controller.stop()


def config(port: int) -> mailer.SmtpConfig:
    return mailer.SmtpConfig("127.0.0.1", port, "none", FROM, timeout=5)


@pytest.fixture
def lead(make_lead, seller) -> int:
    return make_lead(seller, subject="Golf 8 GTI, Probefahrt")


def queue_autoresponder(cur, lead_id, now) -> int | None:
    """As intake does it: inside its own transaction."""
    return db.write(cur, lambda c: autoresponder.queue_for_new_leads(c, [lead_id], now).get(lead_id))


def row(cur, outbox_id: int) -> dict:
    result = cur.execute("SELECT * FROM outbox WHERE id = ?", [outbox_id])
    names = [d[0] for d in result.description]
    return dict(zip(names, result.fetchall()[0]))


# --- what the server receives ------------------------------------------------------------

def test_the_autoresponder_arrives_with_html_text_and_inline_header_graphic(
        cur, manager, now, lead, source_ids, smtp_server):
    template = mail_templates.default_template(cur).draft()
    mail_templates.save_template(cur, manager, now, replace(template, source_id=source_ids["mobile.de"],
                                                            header_image=png(), banner_colour="#aa0000"))
    settings.put(cur, "email_from_name", "Autohaus Nord")
    outbox_id = queue_autoresponder(cur, lead, now)
    inbox, port = smtp_server()

    report = outbox.send_due(cur, now, config(port))

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == FROM and envelope.rcpt_tos == ["max.mustermann@example.de"]
    (message,) = inbox.messages
    stored = row(cur, outbox_id)
    assert stored["status"] == "sent" and stored["attempts"] == 1 and stored["sent_at"] == now
    assert message["Message-ID"] == stored["message_id"] and stored["message_id"].endswith("@autohaus.example>")
    assert message["From"] == f"Autohaus Nord <{FROM}>"
    assert message["To"] == "Max Mustermann <max.mustermann@example.de>"
    assert message["Reply-To"] == "anna@autohaus.example"
    assert message["Subject"] == "Thank you for your enquiry: Golf 8 GTI, Probefahrt"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    assert text.startswith("Dear Herr Mustermann,\n\nthank you for your enquiry.")
    assert "Anna Becker" in text and "<p>" not in text
    assert "<p>Dear Herr Mustermann,</p>" in html and "background-color:#aa0000" in html
    assert f'src="cid:{HEADER_IMAGE_CID}"' in html
    related = message.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    image = related.get_payload()[1]
    assert image.get_content_type() == "image/png" and image["Content-ID"] == f"<{HEADER_IMAGE_CID}>"
    assert image.get_content() == png()


def test_a_batch_of_new_leads_gets_its_autoresponders_at_once(cur, manager, seller, now, make_lead, source_ids,
                                                              smtp_server):
    scout = source_ids["AutoScout24"]
    template = replace(mail_templates.default_template(cur).draft(), source_id=scout, header_image=png(),
                       autoresponder_subject="AutoScout24: {{ lead.subject }}")
    mail_templates.save_template(cur, manager, now, template)
    silent = contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(last_name="Ohnemail", phone="0171 7654321"))
    mobile_lead = make_lead(seller, subject="Golf")
    scout_lead = make_lead(seller, source="AutoScout24", subject="Tiguan")
    silent_lead = make_lead(seller, contact_id=silent.id)

    ids = db.write(cur, lambda c: autoresponder.queue_for_new_leads(c, [mobile_lead, scout_lead, silent_lead], now))

    assert sorted(ids) == [mobile_lead, scout_lead]
    for lead_id, outbox_id in ids.items():
        stored = row(cur, outbox_id)
        assert (stored["lead_id"], stored["created_at"], stored["send_after"]) == (lead_id, now, now)
    inbox, port = smtp_server()
    assert outbox.send_due(cur, now, config(port)).sent == 2
    by_subject = {m["Subject"]: m for m in inbox.messages}
    assert set(by_subject) == {"Thank you for your enquiry: Golf", "AutoScout24: Tiguan"}
    assert by_subject["AutoScout24: Tiguan"].get_payload()[1].get_content_type() == "multipart/related"
    assert by_subject["Thank you for your enquiry: Golf"].get_payload()[1].get_content_type() == "text/html"


def test_a_customer_s_script_arrives_escaped(cur, seller, now, make_lead, smtp_server):
    nasty = contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(
        salutation="Herr", first_name="<script>alert(1)</script>", last_name="<script>alert(2)</script>",
        email="nasty@example.de"))
    queue_autoresponder(cur, make_lead(seller, contact_id=nasty.id, subject="<img src=x onerror=alert(3)>"), now)
    inbox, port = smtp_server()
    outbox.send_due(cur, now, config(port))
    html = inbox.messages[0].get_body(("html",)).get_content()
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_no_autoresponder_without_an_e_mail_address(cur, seller, now, make_lead, count):
    silent = contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(last_name="Ohnemail", phone="0171 7654321"))
    assert queue_autoresponder(cur, make_lead(seller, contact_id=silent.id), now) is None
    assert count("outbox") == 0


def test_a_copy_of_the_intake_message_goes_to_the_forwarding_target(cur, now, lead, smtp_server):
    raw = (b"From: mobile.de <noreply@mobile.de>\r\nTo: leads@autohaus.example\r\n"
           b"Subject: =?utf-8?q?Anfrage_zu_Ihrem_Fahrzeug_M=C3=BCller?=\r\n\r\nName: Max\r\n")
    assert db.write(cur, lambda c: autoresponder.queue_forward(c, now, "in/anfrage.eml", raw, lead)) is None
    settings.put(cur, "forwarding_target", "verkauf@autohaus.example")
    settings.put(cur, "mailbox_address", "leads@autohaus.example")
    db.write(cur, lambda c: autoresponder.queue_forward(c, now, "in/anfrage.eml", raw, lead))
    db.write(cur, lambda c: autoresponder.queue_forward(c, now, "adf.xml", b"<adf/>", None))
    inbox, port = smtp_server()

    assert outbox.send_due(cur, now, config(port)).sent == 2
    eml, xml = sorted(inbox.messages, key=lambda m: m["Subject"])
    assert eml["Subject"] == "Fwd: Anfrage zu Ihrem Fahrzeug Müller" and eml["To"] == "verkauf@autohaus.example"
    assert f"Lead in leadcore: #{lead}" in eml.get_body(("plain",)).get_content()
    (attachment,) = eml.iter_attachments()
    assert attachment.get_filename() == "anfrage.eml" and attachment.get_content() == raw
    assert xml["Subject"] == "Lead file: adf.xml"
    (attachment,) = xml.iter_attachments()
    assert attachment.get_content_type() == "application/xml" and attachment.get_content() in (b"<adf/>", "<adf/>")


def test_escalation_notifications_go_out_as_plain_text(cur, seller, now, lead, berlin, smtp_server):
    assert escalation.sweep(cur, berlin("2026-11-27 11:45")).mails == 1
    inbox, port = smtp_server()
    outbox.send_due(cur, berlin("2026-11-27 11:45"), config(port))
    (message,) = inbox.messages
    assert message.get_content_type() == "text/plain" and message["Subject"].startswith("Reminder: lead #")


# --- failures, retries and crashes ----------------------------------------------------------

def test_a_mail_is_retried_once_the_server_is_up_again(cur, now, lead, smtp_server):
    outbox_id = queue_autoresponder(cur, lead, now)
    port = free_port()                                  # nobody listens yet

    report = outbox.send_due(cur, now, config(port))
    assert (report.sent, report.retrying) == (0, 1) and "Connection refused" in report.errors[0]
    first = row(cur, outbox_id)
    assert (first["status"], first["attempts"], first["send_after"]) == ("queued", 1, now + timedelta(minutes=1))
    assert "Connection refused" in first["last_error"]

    inbox, _port = smtp_server(port)
    assert outbox.send_due(cur, now + timedelta(seconds=30), config(port)).sent == 0   # not due yet
    assert outbox.send_due(cur, now + timedelta(minutes=1), config(port)).sent == 1
    assert len(inbox.envelopes) == 1
    assert inbox.messages[0]["Message-ID"] == row(cur, outbox_id)["message_id"]
    assert row(cur, outbox_id)["status"] == "sent"


def test_backoff_grows_and_the_mail_fails_after_the_last_attempt(cur, manager, now, lead, smtp_server):
    outbox_id = queue_autoresponder(cur, lead, now)
    port, moment, waits = free_port(), now, []
    for _attempt in range(outbox.MAX_ATTEMPTS):
        outbox.send_due(cur, moment, config(port))
        waits.append(row(cur, outbox_id)["send_after"] - moment)
        moment = row(cur, outbox_id)["send_after"]
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(waits) == timedelta(minutes=60)
    failed = row(cur, outbox_id)
    assert (failed["status"], failed["attempts"]) == ("failed", outbox.MAX_ATTEMPTS)
    listed = outbox.list_outbox(cur, manager, ("failed",))
    assert listed["id"].tolist() == [outbox_id] and "Connection refused" in listed["last_error"][0]
    assert outbox.status_counts(cur, manager)["failed"] == 1

    inbox, _port = smtp_server(port)
    assert outbox.send_due(cur, moment + timedelta(hours=1), config(port)).sent == 0   # failed stays failed
    outbox.retry(cur, manager, moment, outbox_id)
    assert (row(cur, outbox_id)["status"], row(cur, outbox_id)["attempts"]) == ("queued", 0)
    assert outbox.send_due(cur, moment, config(port)).sent == 1 and len(inbox.envelopes) == 1


def test_only_managers_retry_and_only_failed_mails(cur, seller, manager, now, lead):
    outbox_id = queue_autoresponder(cur, lead, now)
    with pytest.raises(PermissionDenied):
        outbox.retry(cur, seller, now, outbox_id)
    with pytest.raises(Conflict):
        outbox.retry(cur, manager, now, outbox_id)
    with pytest.raises(ValidationError):
        outbox.retry(cur, manager, now, None)


def test_a_refused_recipient_fails_at_once_and_the_others_still_go(cur, seller, now, make_lead, lead, smtp_server):
    nobody = contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(last_name="Niemand", email="nobody@example.de"))
    refused = queue_autoresponder(cur, make_lead(seller, contact_id=nobody.id), now)
    fine = queue_autoresponder(cur, lead, now)
    inbox, port = smtp_server()

    report = outbox.send_due(cur, now, config(port))

    assert (report.sent, report.failed, report.retrying) == (1, 1, 0)
    assert row(cur, refused)["status"] == "failed" and row(cur, refused)["last_error"].startswith("nobody@example.de: 550")
    assert row(cur, fine)["status"] == "sent" and len(inbox.envelopes) == 1


def test_a_crash_between_claim_and_send_sends_once_after_the_claim_went_stale(cur, now, lead, smtp_server):
    outbox_id = queue_autoresponder(cur, lead, now)
    inbox, port = smtp_server()
    claimed, _recovered = outbox.claim(cur, now, "autohaus.example")      # committed; then the process dies
    assert [m.id for m in claimed] == [outbox_id] and row(cur, outbox_id)["status"] == "sending"

    # A fresh claim is left alone: its sender may still be talking to the server.
    assert outbox.send_due(cur, now + timedelta(minutes=1), config(port)).sent == 0
    later = now + outbox.STALE_AFTER
    report = outbox.send_due(cur, later, config(port))
    assert (report.recovered, report.sent) == (1, 1)
    assert outbox.send_due(cur, later + timedelta(hours=1), config(port)).sent == 0
    assert len(inbox.envelopes) == 1
    assert inbox.messages[0]["Message-ID"] == claimed[0].message_id       # fixed at the first claim
    sent = row(cur, outbox_id)
    assert (sent["status"], sent["attempts"]) == ("sent", 2) and "Interrupted while sending" in sent["last_error"]


def test_a_crash_after_the_server_accepted_resends_with_the_same_message_id(cur, now, lead, smtp_server, monkeypatch):
    """The documented trade-off: at least once. The one window (server said 250, 'sent' not yet
    committed) repeats the mail with the same Message-ID, which clients fold into one."""
    outbox_id = queue_autoresponder(cur, lead, now)
    inbox, port = smtp_server()

    def crash(*args):
        raise SystemExit("killed")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_mark_sent", crash)
        with pytest.raises(SystemExit):
            outbox.send_due(cur, now, config(port))
    assert row(cur, outbox_id)["status"] == "sending" and len(inbox.envelopes) == 1

    outbox.send_due(cur, now + outbox.STALE_AFTER, config(port))
    first, second = inbox.messages
    assert first["Message-ID"] == second["Message-ID"] == row(cur, outbox_id)["message_id"]
    assert row(cur, outbox_id)["status"] == "sent"


def test_a_second_sender_in_the_process_steps_aside(cur, now, lead, smtp_server):
    queue_autoresponder(cur, lead, now)
    inbox, port = smtp_server()
    with process.PROCESS.outbox_lock:
        assert outbox.send_due(cur, now, config(port)).skipped == "busy"
    assert outbox.send_due(cur, now, config(port)).sent == 1 and len(inbox.envelopes) == 1


def test_many_mails_go_out_in_several_claims(cur, seller, now, make_lead, smtp_server):
    for n in range(outbox.BATCH + 5):
        queue_autoresponder(cur, make_lead(seller, subject=f"Anfrage {n}"), now)
    inbox, port = smtp_server()
    assert outbox.send_due(cur, now, config(port), limit=outbox.BATCH + 2).sent == outbox.BATCH + 2
    assert outbox.send_due(cur, now, config(port)).sent == 3
    assert len({m["Message-ID"] for m in inbox.messages}) == outbox.BATCH + 5


# --- configuration and the command line ------------------------------------------------------

def test_smtp_settings_come_from_environment_then_secrets():
    assert mailer.smtp_config({}) is None
    assert mailer.smtp_config({}, {"LEADCORE_SMTP_HOST": ""}) is None
    found = mailer.smtp_config({"LEADCORE_SMTP_HOST": "mail.example", "LEADCORE_SMTP_USER": "leads@autohaus.example"},
                               {"LEADCORE_SMTP_HOST": "ignored", "LEADCORE_SMTP_PASSWORD": "s3cret"})
    assert (found.host, found.port, found.security, found.from_address, found.password) == (
        "mail.example", 587, "starttls", "leads@autohaus.example", "s3cret")
    assert "s3cret" not in repr(found) and "s3cret" not in found.describe()
    assert mailer.smtp_config({"LEADCORE_SMTP_HOST": "h", "LEADCORE_SMTP_SECURITY": "SSL",
                               "LEADCORE_SMTP_FROM": FROM}).port == 465
    for bad, message in (({"LEADCORE_SMTP_SECURITY": "tls"}, "none, starttls or ssl"),
                         ({"LEADCORE_SMTP_PORT": "smtp"}, "must be a number"),
                         ({"LEADCORE_SMTP_FROM": ""}, "sender's e-mail address")):
        with pytest.raises(mailer.SmtpConfigError, match=message):
            mailer.smtp_config({"LEADCORE_SMTP_HOST": "h", "LEADCORE_SMTP_FROM": FROM, **bad})


def test_send_mail_command(db_path, now, monkeypatch, capsys, smtp_server, tmp_path):
    factories.use_database(monkeypatch, db_path)
    monkeypatch.setenv("LEADCORE_NOW", now.isoformat())
    monkeypatch.chdir(tmp_path)                          # no .streamlit/secrets.toml here
    for key in mailer.ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    assert cli.main(["send-mail"]) == 1
    assert "SMTP is not configured" in capsys.readouterr().err

    connection = db.connect(db_path)
    db.write(connection.cursor(), lambda c: outbox.queue(c, now, outbox.OutgoingMail(
        kind="test", recipient_email="dirk@autohaus.example", recipient_name="Dirk", subject="Hallo",
        body_text="Test")))
    connection.close()
    inbox, port = smtp_server()
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        f'LEADCORE_SMTP_HOST = "127.0.0.1"\nLEADCORE_SMTP_PORT = {port}\nLEADCORE_SMTP_SECURITY = "none"\n'
        f'LEADCORE_SMTP_FROM = "{FROM}"\n')
    assert cli.main(["send-mail"]) == 0
    assert "1 sent, 0 to retry later, 0 failed." in capsys.readouterr().out
    assert inbox.messages[0]["Subject"] == "Hallo"
