"""Leads that arrive by themselves: a manager uploads three lead files on the Intake page, reads
the report and opens a created lead with its vehicle of interest.

The files name customers no other test uses ("Einlauf"), and carry no request date: their
leads arrive at the pinned now and are due at 12:00, so they never escalate to anyone."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

ADF = """<?xml version="1.0" encoding="UTF-8"?>
<adf><prospect>
  <id source="mobile.de">E2E-INTAKE-1</id>
  <vehicle interest="buy" status="used"><year>2022</year><make>Volkswagen</make><model>ID.3</model>
    <vin>WVWZZZE1ZNP012345</vin><price currency="EUR">29990</price></vehicle>
  <customer><contact><name part="first">Theodor</name><name part="last">Einlauf</name>
    <email>theodor.einlauf@example.de</email><phone type="cellphone">0176 5550123</phone></contact>
    <comments>Ist der ID.3 noch zu haben?</comments></customer>
  <provider><name>mobile.de</name></provider>
</prospect></adf>
"""
MAIL = """From: AutoScout24 <dealer-leads@autoscout24.com>
To: leads@autohaus.example
Subject: Kontaktanfrage: Seat Leon Sportstourer
Message-ID: <e2e-intake-2@autoscout24.com>
Content-Type: text/plain; charset=UTF-8

Vorname: Ida
Nachname: Einlauf
E-Mail: ida.einlauf@example.de
Nachricht: Bitte um ein Angebot.
"""
NOT_ADF = '<?xml version="1.0"?><rss version="2.0"><channel><title>Fahrzeuge</title></channel></rss>\n'


def test_three_files_are_taken_in_and_a_created_lead_opens(desk, tmp_path):
    files = {"einlauf-adf.xml": ADF, "einlauf-mail.eml": MAIL, "einlauf-feed.xml": NOT_ADF}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    desk.signed_in("dirk")
    desk.go_to("Intake")
    page = desk.page
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([tmp_path / name for name in files])
    desk.settle()
    for name in files:
        expect(page.get_by_role("button", name=f"Remove {name}")).to_be_visible()
    desk.shot("uploaded")

    page.get_by_role("button", name="Take in files").click()
    desk.settle()
    expect(page.get_by_text("3 files: 2 created, 0 merged, 1 rejected.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Remove einlauf"))).to_have_count(0)   # nothing goes in twice
    choice = page.get_by_role("combobox", name="Lead of a file")
    expect(choice).to_have_value(re.compile(r"#\d+ · einlauf-adf\.xml"))
    lead_id = re.search(r"#(\d+)", choice.input_value()).group(1)
    desk.shot("report")

    page.get_by_role("button", name="Open lead").click()
    desk.settle()
    expect(page.get_by_role("heading", name=re.compile(rf"#{lead_id} · Buy: 2022 Volkswagen ID"))).to_be_visible()
    expect(page.locator("[class*='st-key-customer_block_']")).to_contain_text("Theodor Einlauf")
    vehicle = page.locator(f".st-key-vehicle_block_{lead_id}")
    expect(vehicle).to_contain_text("2022 Volkswagen ID.3")
    expect(vehicle).to_contain_text("From the VIN: Volkswagen · model year 2022")
    desk.shot("lead")
