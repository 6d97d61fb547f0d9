"""Lead e-mails: marketplace mails with "Label: value" lines, HTML-only mails, mails straight
from a customer, ADF as attachment or body, and the broken ones that are rejected."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from leadcore.intake import mail, service
from leadcore.intake.incoming import Rejected
from leadcore.intake.labels import read_labels
from leadcore.intake.senders import Dealership


def parse(name: str, data: bytes, tz: ZoneInfo):
    """The one lead of a file (service.parse gives one per ADF attachment)."""
    [(_part, lead)] = service.parse(name, data, tz, Dealership(country="DE"))
    return lead

BERLIN = ZoneInfo("Europe/Berlin")
CORPUS = Path(__file__).resolve().parents[1] / "data" / "intake"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def plain_mail(body: str, subject: str = "Anfrage", headers: str = "From: Kunde <kunde@example.de>\n") -> bytes:
    return (f"{headers}To: leads@autohaus.example\nSubject: {subject}\n"
            f"Content-Type: text/plain; charset=UTF-8\n\n{body}").encode()


def test_a_mobile_de_mail_names_the_customer_in_label_lines():
    lead = parse("mobile_de.eml", corpus("mobile_de.eml"), BERLIN)
    c = lead.customer
    assert (c.salutation, c.first_name, c.last_name, c.email) == ("Herr", "Thomas", "Kranich", "t.kranich@example.de")
    assert (c.phone, c.postal_code, c.city) == ("+492214567890", "50667", "Köln")
    assert lead.subject == "Anfrage zu Ihrem Fahrzeug: BMW 320d Touring (Inserat 412233987)"
    assert lead.sender == "noreply@mobile.de"
    assert lead.message_id == "<20261126182000.412233987@mobile.de>"
    assert lead.arrived_at == datetime(2026, 11, 26, 18, 20, tzinfo=BERLIN)
    assert lead.message.startswith("Guten Tag,\nist das Fahrzeug noch verfügbar?")
    assert "Thomas Kranich" in lead.message                  # the message's later lines belong to it
    v = lead.vehicle
    assert (v.make, v.model, v.stock_number, v.price, v.year, v.vin) == (
        "BMW", "320d Touring", "412233987", Decimal("27450.00"), 2020, "WBA8E1106LA123456")


def test_an_autoscout24_mail_in_english_with_quoted_printable_and_an_encoded_subject():
    lead = parse("autoscout24.eml", corpus("autoscout24.eml"), BERLIN)
    assert (lead.customer.first_name, lead.customer.last_name) == ("Grégoire", "Martin")
    assert lead.customer.phone == "+33142685300"
    assert lead.subject == "Neue Kontaktanfrage: Mercedes-Benz C 200 – AS24-99812"
    assert lead.message == "I would like to know if a test drive\nis possible next week. Thank you!"
    assert (lead.vehicle.interest, lead.vehicle.stock_number) == ("test_drive", "AS24-99812")


def test_an_html_only_mail_is_read_as_text_without_its_scripts():
    lead = parse("html_only.eml", corpus("html_only.eml"), BERLIN)
    assert (lead.customer.first_name, lead.customer.last_name) == ("Henrike", "Söderberg")
    assert (lead.customer.email, lead.customer.postal_code) == ("henrike.soederberg@example.de", "22767")
    assert lead.message == "Wann ist der nächste freie Termin für eine Inspektion?\nDanke & Gruß"
    assert "alert" not in lead.message


def test_a_customer_writing_directly_is_read_from_the_from_header():
    lead = parse("direct_customer.eml", corpus("direct_customer.eml"), BERLIN)
    c = lead.customer
    assert (c.first_name, c.last_name, c.email) == ("Ole", "Brandt", "ole.brandt@example.de")
    assert lead.message.startswith("Hallo,\n\nich suche einen gebrauchten Kombi")
    assert "<p>" not in lead.message                          # the plain alternative, not the HTML
    assert lead.vehicle is None


def test_reply_to_names_the_customer_of_a_mail_sent_on_their_behalf():
    data = plain_mail("Ich interessiere mich für den Golf.",
                      headers="From: Portal <noreply@portal.example>\nReply-To: Jana Roth <jana.roth@example.de>\n")
    lead = parse("portal.eml", data, BERLIN)
    assert (lead.customer.first_name, lead.customer.last_name, lead.customer.email) == (
        "Jana", "Roth", "jana.roth@example.de")


def test_an_adf_attachment_says_who_and_what_the_mail_adds_subject_and_sender():
    lead = parse("adf_attachment.eml", corpus("adf_attachment.eml"), BERLIN)
    assert (lead.customer.last_name, lead.customer.mobile) == ("Hoffstadt", "+4915234567890")
    assert lead.subject == "Neue Leasinganfrage: Audi A4 Avant"
    assert lead.arrived_at == datetime(2026, 11, 27, 7, 55, tzinfo=BERLIN)      # requestdate, not Date
    assert (lead.external_id, lead.provider_names) == ("Website form/Website form/WEB-55120", ("Website form",))
    assert lead.sender == "website@autohaus-beispiel.example"
    assert lead.message_id == "<web-55120@autohaus-beispiel.example>"
    assert (lead.vehicle.make, lead.vehicle.interest) == ("Audi", "lease")


def test_an_adf_document_as_the_plain_text_body():
    xml = corpus("adf_minimal.xml").decode()
    lead = parse("body.eml", plain_mail(xml, subject="ADF lead"), BERLIN)
    assert (lead.customer.last_name, lead.subject) == ("Brenner", "ADF lead")


def test_a_long_subject_is_cut_to_200_characters():
    lead = parse("long.eml", plain_mail("E-Mail: a@example.de", subject="Sehr " * 60), BERLIN)
    assert len(lead.subject) == 200 and lead.subject.endswith("…")


def test_an_unknown_charset_is_still_read():
    data = (b"From: Kunde <kunde@example.de>\nSubject: x\nContent-Type: text/plain; charset=klingon\n\n"
            b"Nachricht: Bitte um R\xc3\xbcckruf")
    assert parse("charset.eml", data, BERLIN).message == "Bitte um Rückruf"


@pytest.mark.parametrize("name, words", [
    ("malformed_mime.eml", "malformed: its MIME structure is broken"),
    ("unreachable.eml", "no way to reach the customer"),
])
def test_broken_and_unreachable_mails_are_rejected(name, words):
    with pytest.raises(Rejected, match=words):
        parse(name, corpus(name), BERLIN)


def test_text_without_any_mail_header_is_rejected():
    with pytest.raises(Rejected, match="not an e-mail"):
        mail.parse_mail(b"just some words\nno headers at all\n", BERLIN)


def test_labels_in_german_and_english_first_one_wins_unknown_ones_ignored():
    fields = read_labels("Inserat-Link: https://example.de/x\n* Vorname: Max\nVorname: Moritz\n"
                         "E-Mail-Adresse: max@example.de\nTelefon (mobil): 0171 1234567\n"
                         "PLZ / Ort: 10115 Berlin\nNachricht: Zeile eins\nZeile zwei\nTel.: 030 123456\n")
    assert fields == {"first_name": "Max", "email": "max@example.de", "mobile": "0171 1234567",
                      "postal_code": "10115", "city": "Berlin", "message": "Zeile eins\nZeile zwei",
                      "phone": "030 123456"}


def test_html_becomes_lines_of_text_and_entities_are_decoded():
    html = ("<html><head><style>p{}</style></head><body><p>Hallo&nbsp;Welt</p><div>Preis: 5 &euro;"
            "<br>Ende</div><script>x()</script><ul><li>eins</li><li>zwei</li></ul></body></html>")
    assert mail.html_to_text(html) == "Hallo Welt\n\nPreis: 5 €\nEnde\n\neins\n\nzwei"
