"""ADF 1.0 files: read leniently (missing and extra elements, namespaces, letter case), safely
(no entity expansion, no external entities), with requestdate as the arrival time."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from leadcore.intake import adf
from leadcore.intake.incoming import Rejected
from leadcore.intake.service import parse

BERLIN = ZoneInfo("Europe/Berlin")
CORPUS = Path(__file__).resolve().parents[1] / "data" / "intake"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def adf_of(inner: str) -> bytes:
    return f'<?xml version="1.0"?><adf><prospect>{inner}</prospect></adf>'.encode()


def test_a_complete_prospect():
    lead = adf.parse_adf(corpus("adf_complete.xml"), BERLIN)
    c = lead.customer
    assert (c.first_name, c.last_name, c.email) == ("Katharina", "Vogelsang", "Katharina.Vogelsang@Example.de")
    assert [(p.raw, p.kind) for p in lead.phones] == [
        ("030 12345678", "voice"), ("0171 9876543", "cellphone"), ("030 12345679", "fax")]   # the fax is kept with its type
    assert (c.street, c.postal_code, c.city, c.country) == ("Lindenallee 12", "10115", "Berlin", "DE")
    assert lead.arrived_at == datetime(2026, 11, 27, 8, 30, tzinfo=BERLIN)
    assert lead.external_id == "mobile.de/mobile.de/MDE-2026-448812"     # provider / id source / id
    assert lead.provider_names == ("mobile.de",)
    v = lead.vehicle
    assert (v.interest, v.status, v.year, v.make, v.model, v.trim) == ("buy", "used", 2021, "Volkswagen", "Golf", "GTI")
    assert (v.vin, v.stock_number, v.price, v.price_currency) == (
        "WVWZZZCDZMW012345", "GW-10482", Decimal("31990.00"), "EUR")
    assert v.comments == "Unfallfrei, Scheckheft gepflegt"
    assert lead.message == "Ist eine Probefahrt am Samstag möglich?\nTimeframe: In den nächsten 4 Wochen"
    assert lead.subject == "Buy: 2021 Volkswagen Golf GTI"


def test_missing_elements_stay_empty():
    lead = adf.parse_adf(corpus("adf_minimal.xml"), BERLIN)
    assert (lead.customer.first_name, lead.customer.last_name) == ("Lukas", "Brenner")
    assert lead.vehicle is None and lead.arrived_at is None and lead.external_id is None
    assert lead.provider_names == () and lead.message == "" and lead.subject == "Lead request"


def test_extra_elements_namespaces_letter_case_and_a_doctype_are_tolerated():
    lead = adf.parse_adf(corpus("adf_extra_elements.xml"), BERLIN)
    assert (lead.customer.first_name, lead.customer.last_name, lead.phones[0].raw) == (
        "Sophie", "Lindqvist", "+49 89 2345678")
    assert lead.arrived_at == datetime(2026, 11, 26, 16, 45, tzinfo=BERLIN)   # no offset: the dealership's time
    assert lead.external_id == "Dealer-Website XY/AutoScout24/AS24-77001"
    assert lead.provider_names == ("Dealer-Website XY",)      # the provider decides the source
    # The car to test drive is the vehicle of interest; the trade-in is a vehicle of its own.
    assert (lead.vehicle.make, lead.vehicle.interest, lead.vehicle.price) == ("Skoda", "test_drive", Decimal("34490.00"))
    assert lead.vehicle.price_currency == "EUR"
    assert [(v.interest, v.year, v.make) for v in lead.vehicles if v.interest == "trade_in"] == [
        ("trade_in", 2015, "Volkswagen")]


def test_names_in_one_part_business_names_and_the_primary_contact():
    lead = adf.parse_adf(adf_of(
        '<customer><contact><name part="full">Mustermann, Max</name><email>x@example.de</email></contact>'
        '<contact primarycontact="1"><name part="full">Erika Musterfrau</name>'
        '<name type="business">Musterfrau Logistik GmbH</name><email>erika@example.de</email>'
        '<phone>0171 1111111</phone><phone>0171 2222222</phone></contact></customer>'), BERLIN)
    c = lead.customer
    assert (c.first_name, c.last_name, c.company, c.email) == (
        "Erika", "Musterfrau", "Musterfrau Logistik GmbH", "erika@example.de")
    assert [p.raw for p in lead.phones] == ["0171 1111111", "0171 2222222"]
    assert adf.split_full_name("Mustermann, Max") == ("Max", "Mustermann")


@pytest.mark.parametrize("text, expected", [
    ("2026-11-27T08:30:00+01:00", datetime(2026, 11, 27, 7, 30, tzinfo=timezone.utc)),
    ("2026-11-27T07:30:00Z", datetime(2026, 11, 27, 7, 30, tzinfo=timezone.utc)),
    ("2026-11-27 08:30", datetime(2026, 11, 27, 8, 30, tzinfo=BERLIN)),
    ("Fri, 27 Nov 2026 08:30:00 +0100", datetime(2026, 11, 27, 7, 30, tzinfo=timezone.utc)),
    ("yesterday evening", None), ("", None),
])
def test_request_dates_as_feeds_write_them(text, expected):
    assert adf.parse_moment(text, BERLIN) == expected


def test_xml_that_is_not_adf_is_rejected():
    with pytest.raises(Rejected, match="not an ADF lead: its root element is <rss>"):
        adf.parse_adf(corpus("not_adf.xml"), BERLIN)


def test_adf_without_a_prospect_is_rejected():
    with pytest.raises(Rejected, match="no <prospect>"):
        adf.parse_adf(b"<adf><vendor/></adf>", BERLIN)


def test_broken_xml_is_rejected():
    with pytest.raises(Rejected, match="The XML is broken"):
        adf.parse_adf(b"<adf><prospect><customer></prospect></adf>", BERLIN)


@pytest.mark.parametrize("name", ["xml_bomb.xml", "external_entity.xml"])
def test_entity_tricks_are_refused_unread(name):
    started = time.perf_counter()
    with pytest.raises(Rejected, match="entities") as refused:
        parse(name, corpus(name), BERLIN)
    assert time.perf_counter() - started < 1.0          # nothing was expanded
    assert "root:" not in refused.value.reason           # nothing of /etc/passwd was read


def test_a_prospect_without_any_way_to_reach_the_customer_is_rejected():
    data = adf_of('<customer><contact><name part="full">Otto Anonym</name>'
                  '<phone type="fax">030 999999</phone></contact></customer>')
    with pytest.raises(Rejected, match="no way to reach the customer"):
        parse("anonym.xml", data, BERLIN)


def test_an_unusable_phone_is_dropped_and_noted_when_an_email_remains():
    data = adf_of('<customer><contact><name part="full">Ina Tipp</name><email>ina@example.de</email>'
                  '<phone>12</phone></contact></customer>')
    lead = parse("tipp.xml", data, BERLIN)[0][1]
    assert lead.customer.phone == "" and lead.customer.email == "ina@example.de"
    assert lead.flags == ("Phone as sent is not a number: 12",)


def test_a_customer_without_last_name_is_filed_under_what_is_known():
    [(_part, lead)] = parse("first.xml", adf_of('<customer><contact><name part="first">Mia</name>'
                                     '<email>mia@example.de</email></contact></customer>'), BERLIN)
    assert (lead.customer.first_name, lead.customer.last_name) == ("", "Mia")
