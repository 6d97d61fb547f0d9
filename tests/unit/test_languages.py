"""German and English side by side (SPEC section 12): who reads which language, mails in the
recipient's (notifications) or the dealership's (customers), names and numbers in the reader's
forms, and the dealership's own words winning over the shipped ones."""
from __future__ import annotations

from datetime import timedelta

import pytest

from leadcore import i18n
from leadcore.admin import basic, language, reasons, settings, users
from leadcore.analytics import exports
from leadcore.errors import ValidationErrors
from leadcore.leads import escalation, timeline
from leadcore.leads import service as leads
from leadcore.mail import autoresponder
from leadcore.mail import templates as mail_templates
from leadcore.ui import format as fmt


def _mails(cur) -> dict[str, tuple[str, str]]:
    rows = cur.execute("SELECT recipient_email, subject, body_text FROM outbox ORDER BY id").fetchall()
    return {email: (subject, body) for email, subject, body in rows}


# --- who reads which language ----------------------------------------------------------------

def test_a_user_reads_their_own_language_else_the_dealerships_else_the_install_default(
        cur, seller, now, monkeypatch):
    monkeypatch.delenv("LEADCORE_LANGUAGE", raising=False)
    assert settings.user_language(cur, seller) == "en"
    monkeypatch.setenv("LEADCORE_LANGUAGE", "de_DE.UTF-8")
    assert settings.user_language(cur, seller) == "de"
    settings.put(cur, "language", "en")
    assert settings.user_language(cur, seller) == "en"
    chosen = users.set_language(cur, seller, now, "de")
    assert chosen.language == "de" and settings.user_language(cur, chosen) == "de"
    back = users.set_language(cur, chosen, now, None)
    assert back.language is None and settings.user_language(cur, back) == "en"


def test_only_offered_languages_can_be_chosen(cur, seller, manager, now):
    with pytest.raises(ValidationErrors):
        users.set_language(cur, seller, now, "fr")
    with pytest.raises(ValidationErrors):
        basic.update_basic_settings(cur, manager, now, settings.BasicSettings(language="fr"))
    saved = basic.update_basic_settings(cur, manager, now, settings.BasicSettings(language="de"))
    assert saved.language == "de" and settings.dealership_language(cur) == "de"


def test_a_dealership_started_in_german_names_the_shipped_sources_in_german(cur):
    language.start_in(cur, "de")
    names = [n for (n,) in cur.execute("SELECT name FROM sources ORDER BY position").fetchall()]
    assert names == ["mobile.de", "AutoScout24", "Website-Formular", "Telefon", "Laufkundschaft", "E-Mail"]
    assert settings.dealership_language(cur) == "de"


# --- mails ---------------------------------------------------------------------------------------

def test_notification_mails_go_out_in_each_recipients_language(cur, seller, supervisor, make_lead, berlin, now):
    users.set_language(cur, supervisor, now, "de")           # the seller keeps the default: English
    lead = make_lead(seller)
    escalation.sweep(cur, berlin("2026-11-27 16:00"))        # stage 1 to the seller, stage 2 to Clara
    mails = _mails(cur)
    subject, body = mails[seller.email]
    assert subject == f"Overdue: lead #{lead} since 27.11.2026 12:00"
    assert body.startswith(f"Hello {seller.full_name},")
    subject, body = mails[supervisor.email]
    assert subject == f"An Sie eskaliert: Lead #{lead} von {seller.full_name}"
    assert body.startswith(f"Hallo {supervisor.full_name},")
    assert "Eskalationsstufe 2" in body and "Vorgesetzten" in body


def test_customers_get_the_dealerships_language_and_a_dealerships_own_text_stays_its_own(
        cur, seller, manager, make_lead, now):
    settings.put(cur, "language", "de")
    users.set_language(cur, seller, now, "en")               # the seller's own choice does not matter
    lead = make_lead(seller, subject="Probefahrt Golf")
    autoresponder.queue_for_new_leads(cur, [lead], now)
    [(subject, body)] = cur.execute("SELECT subject, body_text FROM outbox WHERE kind = 'autoresponder'").fetchall()
    assert subject == "Vielen Dank für Ihre Anfrage: Probefahrt Golf"
    assert "Mit freundlichen Grüßen" in body
    own = mail_templates.default_template(cur).draft()
    mail_templates.save_template(cur, manager, now, own.__class__(**{**vars(own),
                                 "autoresponder_subject": "Danke sehr: {{ lead.subject }}"}))
    settings.put(cur, "language", "en")
    template = mail_templates.default_template(cur)
    assert template.autoresponder_subject == "Danke sehr: {{ lead.subject }}"   # theirs, as written
    assert template.autoresponder_html.startswith("<p>Dear")                     # untouched: English


def test_the_forward_copy_is_in_the_dealerships_language(cur, now):
    settings.put(cur, "language", "de")
    settings.put(cur, "forwarding_target", "verkauf@autohaus.example")
    autoresponder.queue_forward(cur, now, "anfrage.xml", b"<adf/>", 7)
    [(subject, body)] = cur.execute("SELECT subject, body_text FROM outbox WHERE kind = 'forward'").fetchall()
    assert subject == "Lead-Datei: anfrage.xml"
    assert "Lead in leadcore: #7" in body and "unverändert angehängt" in body


# --- the dealership's words and the reader's forms ----------------------------------------------

def test_system_reasons_read_in_the_readers_language_until_a_manager_renames_them(
        cur, seller, manager, make_lead, now):
    sold = next(r for r in reasons.list_reasons(cur) if r.label == "Sold")
    lead = make_lead(seller)
    leads.complete(cur, seller, now, lead, sold.id, "Vertrag unterschrieben")
    with i18n.using("de"):
        assert reasons.shown_label(sold.label) == "Verkauft"
        assert timeline.timeline(cur, seller, lead, now)["detail"].iloc[0] == "Verkauft: Vertrag unterschrieben"
    reasons.update_reason(cur, manager, now, sold.id, label="Verkauft (Neuwagen)")
    with i18n.using("en"):
        assert reasons.shown_label("Verkauft (Neuwagen)") == "Verkauft (Neuwagen)"


@pytest.mark.parametrize("code, number, money, percent, long, short", [
    ("en", "1,234", "€1,234.50", "56%", "21 h 32 min", "45 min"),
    ("de", "1.234", "1.234,50\xa0€", "56\xa0%", "21 Std. 32 Min.", "45 Min."),
])
def test_numbers_money_and_durations_in_the_readers_forms(code, number, money, percent, long, short):
    with i18n.using(code):
        assert fmt.number(1234) == number
        assert fmt.money(1234.5) == money
        assert fmt.percent(0.56) == percent
        assert fmt.duration(21 + 32 / 60) == long
        assert fmt.duration(0.75) == short


def test_german_csv_is_what_a_german_spreadsheet_opens():
    import pandas as pd
    frame = pd.DataFrame({"Quelle": ["mobile.de"], "Stunden": [1.5]})
    assert exports.to_csv(frame, "de").decode("utf-8-sig") == "Quelle;Stunden\r\nmobile.de;1,5\r\n"
    assert exports.to_csv(frame).decode("utf-8-sig") == "Quelle,Stunden\r\nmobile.de,1.5\r\n"


def test_dates_read_the_same_in_both(now):
    for code in i18n.LANGUAGES:
        with i18n.using(code):
            assert fmt.when(now + timedelta(days=8), now.tzinfo) == "05.12.2026 10:00"
