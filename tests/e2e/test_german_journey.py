"""A German seller's and supervisor's day in a real browser, on a dealership started in German:
sign in, create a contact, a lead from the contact's "Neuer Lead" symbol and one through
"Neuer Lead" on the Leads page, complete one with a reason, read a stage-2 notification; then
every page once, as a manager.

The pictures of each page go to test-artifacts/e2e/de-*.png; with LEADCORE_SCREENSHOTS=1 they
are also written to docs/screenshots/de/ (the README links them), so the docs change only when
someone means them to.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import ARTIFACTS, ESCALATED_SUBJECT, PASSWORD, REPO, screenshot, settle

pytestmark = pytest.mark.e2e
DOCS = REPO / "docs" / "screenshots" / "de"


@pytest.fixture
def de_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE",
                                  timezone_id="Europe/Berlin")
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


class GermanDesk:
    def __init__(self, page: Page, url: str):
        self.page, self.url = page, url

    def settle(self) -> None:
        settle(self.page)

    def sign_in(self, username: str) -> None:
        self.page.goto(self.url)
        self.settle()
        self.page.get_by_label("Benutzername").fill(username)
        self.page.get_by_label("Passwort", exact=True).fill(PASSWORD)
        self.page.get_by_role("button", name="Anmelden").click()
        self.settle()
        expect(self.page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Abmelden").click()
        self.settle()

    def go_to(self, title: str, heading: str | None = None) -> None:
        self.page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
        self.settle()
        expect(self.page.get_by_role("heading", name=heading or title, exact=True)).to_be_visible()

    def shot(self, name: str) -> None:
        path = ARTIFACTS / f"de-{name}.png"
        screenshot(self.page, path)
        if os.environ.get("LEADCORE_SCREENSHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS / f"{name}.png")


def _lead_form_from_row(desk: GermanDesk, contact_id: int, name: str) -> Locator:
    desk.page.locator(f".st-key-new_lead_{contact_id}").get_by_role("button", name="Neuer Lead").click()
    desk.settle()
    form = desk.page.locator(".st-key-lead_form")
    expect(form.get_by_role("heading", name="Neuer Lead")).to_be_visible()
    expect(form.locator(f".st-key-customer_block_{contact_id}")).to_contain_text(name)
    return form


def _save_lead(desk: GermanDesk, form: Locator, subject: str) -> None:
    form.get_by_label("Betreff").fill(subject)
    form.get_by_role("button", name="Speichern", exact=True).click()
    desk.settle()
    expect(desk.page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()
    expect(desk.page.get_by_test_id("stAlertContentSuccess")).to_contain_text(subject)


def _search_leads(desk: GermanDesk, text: str) -> None:
    box = desk.page.locator(".st-key-lead_search input")
    box.fill(text)
    box.press("Enter")
    desk.settle()


def test_a_german_day_at_the_desk(de_page, german_server):
    desk, page = GermanDesk(de_page, german_server.url), de_page
    page.goto(german_server.url)
    desk.settle()
    expect(page.get_by_role("button", name="Anmelden")).to_be_visible()
    desk.shot("anmelden")

    # The seller: a contact, then a lead from its row's "Neuer Lead" symbol.
    desk.sign_in("seller")
    desk.go_to("Kontakte")
    page.get_by_role("button", name="Neuer Kontakt").click()
    desk.settle()
    box = page.locator(".st-key-contact_form_box")
    for label, value in (("Anrede", "Frau"), ("Vorname", "Lena"), ("Nachname", "Brandt"),
                         ("E-Mail", "lena.brandt@example.de"), ("Telefon", "0151 11122233"),
                         ("PLZ", "14467"), ("Ort", "Potsdam")):
        box.get_by_label(label, exact=True).fill(value)
    desk.shot("kontakt-neu")
    box.get_by_role("button", name="Kontakt speichern").click()
    desk.settle()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Kontakt Frau Lena Brandt angelegt.")
    row = page.locator("[class*='st-key-contact_row_']").filter(has_text="Lena Brandt")
    contact_id = int(re.search(r"st-key-contact_row_(\d+)", row.get_attribute("class")).group(1))
    desk.shot("kontakte")
    form = _lead_form_from_row(desk, contact_id, "Lena Brandt")
    form.get_by_label("Betreff").fill("Probefahrt VW Golf 8 GTI")
    desk.shot("lead-formular")
    _save_lead(desk, form, "Probefahrt VW Golf 8 GTI")

    # The second entry point: "Neuer Lead" on the Leads page, through the contact picker.
    page.locator(".st-key-new_lead").get_by_role("button", name="Neuer Lead").click()
    desk.settle()
    expect(page.get_by_role("heading", name="Kontakte", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stAlertContentInfo")).to_contain_text("Neuer Lead")
    form = _lead_form_from_row(desk, contact_id, "Lena Brandt")
    _save_lead(desk, form, "Inzahlungnahme Opel Astra")

    _search_leads(desk, "Brandt")
    table = page.get_by_test_id("stDataFrame").locator("table[role='grid']")
    expect(table.locator("tbody tr")).to_have_count(2)
    headers = table.locator("thead th").all_text_contents()
    assert {"Kunde", "Betreff", "Fällig", "Ampel"} <= {h.strip() for h in headers}
    expect(table).to_contain_text("pünktlich")
    expect(table).to_contain_text("27.11.2026 12:00")
    desk.shot("leads")

    # Complete one with a reason.
    _search_leads(desk, "Inzahlungnahme Opel Astra")
    page.get_by_test_id("stDataFrame").click(position={"x": 15, "y": 1 * 35 + 17})
    desk.settle()
    expect(page.get_by_role("button", name="Zurück zu den Leads")).to_be_visible()
    facts = page.locator(".st-key-lead_facts")
    expect(facts).to_contain_text("Fällig")
    expect(facts).to_contain_text("pünktlich")
    desk.shot("lead-detail")
    page.get_by_role("tab", name="Abschließen").click()
    panel = page.get_by_role("tabpanel", name="Abschließen")
    panel.get_by_role("combobox", name="Abschlussgrund").click()
    page.get_by_role("option", name="Verkauft", exact=True).click()
    panel.get_by_label("Kommentar").fill("Vertrag am Schreibtisch unterschrieben")
    desk.shot("abschliessen")
    panel.get_by_role("button", name="Lead abschließen").click()
    desk.settle()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Lead abgeschlossen.")
    expect(facts).to_contain_text("Verkauft")
    expect(page.get_by_role("button", name="Wieder öffnen")).to_be_visible()
    desk.shot("lead-abgeschlossen")

    desk.go_to("Meine Einstellungen")
    expect(page.get_by_role("heading", name="Meine Abwesenheiten")).to_be_visible()
    desk.shot("meine-einstellungen")
    desk.sign_out()

    # The supervisor reads the stage-2 notification and opens the lead.
    desk.sign_in("clara")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name=re.compile(r"Benachrichtigungen \(1\)"))).to_be_visible()
    nav.get_by_role("link", name=re.compile("Benachrichtigungen")).click()
    desk.settle()
    card = page.locator("[class*='st-key-notification_']").filter(has_text=ESCALATED_SUBJECT)
    expect(card).to_contain_text("Eskalationsstufe 2")
    desk.shot("benachrichtigungen")
    card.get_by_role("button", name="Öffnen").click()
    desk.settle()
    facts = page.locator(".st-key-lead_facts")
    expect(facts).to_contain_text("überfällig")
    expect(facts).to_contain_text("2 · Vorgesetzter")
    expect(facts).to_contain_text("Bearbeiter: Anna Becker")
    desk.shot("lead-eskaliert")
    desk.sign_out()

    # The manager's pages.
    desk.sign_in("dirk")
    desk.go_to("Dashboard")
    expect(page.get_by_text("Erfolgsquote")).to_be_visible()
    desk.shot("dashboard")
    # The manager's CSV opens in a German spreadsheet: German headings, ";" between them.
    with page.expect_download() as download:
        page.locator(".st-key-dash_card_open").get_by_role("button", name="CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "Quelle;Überfällig;Pünktlich;Gesamt"     # no lead is due soon here
    desk.go_to("Auswertung")
    desk.shot("auswertung")
    desk.go_to("Lead-Eingang")
    desk.shot("lead-eingang")
    desk.go_to("Einstellungen")
    desk.shot("einstellungen")

