"""The seller's core journey in a real browser: sign in, create a contact, create leads from both
entry points (SPEC section 3), see them with their traffic lights, complete one (section 5).

Every test signs in on its own session and works on its own contact and subjects, so the tests
run alone or in any order. The clock is pinned (tests/factories.py): Friday 27.11.2026 10:00.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, expect

pytestmark = pytest.mark.e2e

PICK_BANNER = "Choose the contact for the new lead"


# --- steps a seller takes -------------------------------------------------------------------

def create_contact(desk, first: str, last: str, email: str, phone: str, city: str) -> int:
    """Contacts page -> "New contact" -> fill by label -> "Save contact"; returns the new id."""
    page = desk.page
    page.get_by_role("button", name="New contact").click()
    desk.settle()
    form = page.locator(".st-key-contact_form_box")
    for label, value in (("Salutation", "Frau"), ("First name", first), ("Last name", last),
                         ("E-mail", email), ("Phone", phone), ("Postal code", "10115"),
                         ("City", city)):
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_role("button", name="Save contact").click()
    desk.settle()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Contact Frau {first} {last} created.")
    return contact_id_of(contact_row_named(desk, f"{first} {last}"))


def contact_row_named(desk, name: str) -> Locator:
    row = desk.page.locator("[class*='st-key-contact_row_']").filter(has_text=name)
    expect(row).to_have_count(1)
    return row


def contact_id_of(row: Locator) -> int:
    return int(re.search(r"st-key-contact_row_(\d+)", row.get_attribute("class")).group(1))


def search_contacts(desk, text: str) -> None:
    desk.page.get_by_role("textbox", name="Search").fill(text)
    desk.page.get_by_role("textbox", name="Search").press("Enter")
    desk.settle()


def start_lead_from_row(desk, contact_id: int, name: str) -> Locator:
    """The row's "New lead" symbol opens the lead form with the customer block of that contact."""
    # By role: a button with a tooltip also has a hidden twin in the same element container.
    desk.page.locator(f".st-key-new_lead_{contact_id}").get_by_role("button", name="New lead").click()
    desk.settle()
    form = desk.page.locator(".st-key-lead_form")
    expect(form.get_by_role("heading", name="New lead")).to_be_visible()
    expect(form.locator(f".st-key-customer_block_{contact_id}")).to_contain_text(name)
    return form


def set_resubmission(form: Locator, day: str, clock: str) -> None:
    """Type into the segmented date (dd.mm.yyyy) and time (HH:mm) fields, as a keyboard user.

    Segments are found by their type: their accessible names follow the browser's language
    (a German browser names the hour "Stunde" but the day "day").
    """
    date_field = form.get_by_role("group", name="Resubmission date")
    time_field = form.get_by_role("group", name="Resubmission time")
    date_field.locator("[data-type='day']").click()
    form.page.keyboard.type(day.replace(".", ""))
    time_field.locator("[data-type='hour']").click()
    form.page.keyboard.type(clock.replace(":", ""))
    expect(date_field).to_have_text(re.compile(r"\s*".join(map(re.escape, day))))
    expect(time_field).to_have_text(re.compile(r"\W*".join(map(re.escape, clock.replace(":", ""))) + r"\W*"))


def save_lead(desk, form: Locator, subject: str) -> None:
    """Fill the subject, "Save", and land on the Leads list with the confirmation."""
    form.get_by_label("Subject").fill(subject)
    form.get_by_role("button", name="Save", exact=True).click()
    desk.settle()
    expect(desk.page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()
    expect(desk.page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"“{subject}” created.")


def search_leads(desk, text: str) -> None:
    box = desk.page.locator(".st-key-lead_search input")
    box.fill(text)
    box.press("Enter")
    desk.settle()


def lead_table(desk) -> Locator:
    """The accessible table glide-data-grid keeps inside the st.dataframe canvas."""
    return desk.page.get_by_test_id("stDataFrame").locator("table[role='grid']")


def lead_row(desk, subject: str) -> Locator:
    row = lead_table(desk).locator("tbody tr").filter(has_text=subject)
    expect(row).to_have_count(1)
    return row


def cell(desk, row: Locator, column: str) -> str:
    """Text of the row's cell under the header `column` (only columns scrolled into view exist)."""
    headers = lead_table(desk).locator("thead th")
    index = next((h.get_attribute("aria-colindex") for h in headers.all()
                  if (h.text_content() or "").strip() == column), None)
    assert index is not None, f"column {column!r} is not in view; headers: {headers.all_text_contents()}"
    return (row.locator(f"td[aria-colindex='{index}']").text_content() or "").strip()


def open_single_lead(desk) -> None:
    """Select the first row through its row marker (RECIPES: x=15, y=(n+1)*35+17)."""
    desk.page.get_by_test_id("stDataFrame").click(position={"x": 15, "y": 1 * 35 + 17})
    desk.settle()
    expect(desk.page.get_by_role("button", name="Back to leads")).to_be_visible()


# --- journeys -------------------------------------------------------------------------------

def test_sign_in_rejects_a_wrong_password_then_lets_the_seller_in(desk):
    desk.open()
    desk.shot("sign-in-form")
    desk.sign_in(password="wrong-password")
    expect(desk.page.get_by_test_id("stAlertContentError")).to_have_text(
        re.compile("Sign-in failed: the username or the password is wrong."))
    expect(desk.page.get_by_role("heading", name="Leads")).to_have_count(0)
    desk.shot("wrong-password")

    desk.sign_in()
    expect(desk.page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()
    sidebar = desk.page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("Anna Becker")
    expect(sidebar.get_by_role("button", name="Sign out")).to_be_visible()
    expect(desk.page.get_by_role("button", name="Sign in")).to_have_count(0)
    desk.shot("signed-in")


def test_a_new_contact_appears_in_the_contact_list(desk):
    desk.signed_in()
    desk.go_to("Contacts")
    contact_id = create_contact(desk, "Lena", "Brandt", "lena.brandt@example.de", "0151 11122233",
                                "Potsdam")
    row = desk.page.locator(f".st-key-contact_row_{contact_id}")
    expect(row).to_contain_text("Frau Lena Brandt")
    expect(row).to_contain_text("10115 Potsdam")
    expect(row).to_contain_text("lena.brandt@example.de")
    expect(row).to_contain_text("0 open leads")
    desk.shot("contact-created")

    search_contacts(desk, "")          # the full list, not only the search the form left behind
    expect(desk.page.locator(f".st-key-contact_row_{contact_id}")).to_contain_text("Lena Brandt")
    desk.shot("contact-in-full-list")


def test_a_lead_from_a_contact_row_without_resubmission_is_on_time(desk):
    desk.signed_in()
    desk.go_to("Contacts")
    contact_id = create_contact(desk, "Sophie", "Krüger", "sophie.krueger@example.de",
                                "0160 9876543", "Berlin")
    form = start_lead_from_row(desk, contact_id, "Sophie Krüger")
    subject = "Test drive VW Golf 8 GTI (row)"
    form.get_by_label("Subject").fill(subject)
    desk.shot("lead-form")
    save_lead(desk, form, subject)

    row = lead_row(desk, subject)
    assert cell(desk, row, "Customer") == "Sophie Krüger"
    assert cell(desk, row, "Due") == "27.11.2026 12:00"           # arrival 10:00 + stage 1 (2 h)
    assert cell(desk, row, "Traffic light").endswith("on time")
    desk.shot("leads-list-on-time")


def test_a_lead_from_the_leads_page_is_due_soon_and_listed_with_the_other(desk, seeded_contact):
    contact_id, name = seeded_contact("pick"), "Erika Musterfrau"
    desk.signed_in()
    # First entry point: the contact row, no resubmission.
    desk.go_to("Contacts")
    on_time = "Trade-in valuation Opel Astra (row)"
    save_lead(desk, start_lead_from_row(desk, contact_id, name), on_time)

    # Second entry point: the Leads page's button, always through the contact picker.
    desk.page.locator(".st-key-new_lead").get_by_role("button", name="New lead").click()
    desk.settle()
    expect(desk.page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
    expect(desk.page.get_by_test_id("stAlertContentInfo")).to_contain_text(PICK_BANNER)
    desk.shot("pick-mode")
    form = start_lead_from_row(desk, contact_id, name)
    set_resubmission(form, "27.11.2026", "10:20")        # 20 min ahead: inside the 30-min reminder
    due_soon = "Call back about financing Tiguan (picker)"
    form.get_by_label("Subject").fill(due_soon)
    desk.shot("lead-form-with-resubmission")
    save_lead(desk, form, due_soon)

    search_leads(desk, "Musterfrau")
    expect(lead_table(desk).locator("tbody tr")).to_have_count(2)
    soon_row, on_time_row = lead_row(desk, due_soon), lead_row(desk, on_time)
    assert cell(desk, soon_row, "Due") == "27.11.2026 10:20"
    assert cell(desk, soon_row, "Traffic light").endswith("due soon")
    assert cell(desk, on_time_row, "Traffic light").endswith("on time")
    # Sorted by due: the lead due first comes first.
    expect(lead_table(desk).locator("tbody tr").first).to_contain_text(due_soon)
    desk.shot("leads-list-both")


def test_completing_a_lead_takes_it_off_the_open_list(desk, seeded_contact):
    contact_id, name = seeded_contact("complete"), "Jonas Weber"
    subject = "Service appointment Passat B8"
    desk.signed_in()
    desk.go_to("Contacts")
    save_lead(desk, start_lead_from_row(desk, contact_id, name), subject)
    search_leads(desk, subject)
    lead_row(desk, subject)

    open_single_lead(desk)
    page = desk.page
    expect(page.get_by_role("heading", name=re.compile(rf"#\d+ · {subject}"))).to_be_visible()
    facts = page.locator(".st-key-lead_facts")
    expect(facts).to_contain_text("on time")
    desk.shot("lead-detail")

    page.get_by_role("tab", name="Complete").click()
    panel = page.get_by_role("tabpanel", name="Complete")
    panel.get_by_role("combobox", name="Completion reason").click()
    page.get_by_role("option", name="Sold", exact=True).click()
    panel.get_by_label("Comment").fill("Signed the contract at the desk")
    desk.shot("complete-form")
    panel.get_by_role("button", name="Complete lead").click()
    desk.settle()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Lead completed.")
    expect(facts).to_contain_text("Completed:")
    expect(facts).to_contain_text("Sold")
    expect(facts).to_contain_text("Status: Completed")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    desk.shot("lead-completed")

    page.get_by_role("button", name="Back to leads").click()
    desk.settle()
    search_leads(desk, subject)
    expect(page.get_by_test_id("stAlertContentInfo")).to_contain_text("No leads match")
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    desk.shot("gone-from-open-list")


def test_an_empty_subject_is_refused_and_no_lead_is_stored(desk, seeded_contact):
    contact_id, name = seeded_contact("invalid"), "Paul Neumann"
    desk.signed_in()
    desk.go_to("Contacts")
    search_contacts(desk, "Neumann")
    form = start_lead_from_row(desk, contact_id, name)
    form.get_by_role("button", name="Save", exact=True).click()
    desk.settle()

    expect(desk.page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
    expect(form.get_by_test_id("stAlertContentError")).to_have_text(re.compile("Subject is required."))
    desk.shot("subject-required")
    row = desk.page.locator(f".st-key-contact_row_{contact_id}")
    expect(row).to_contain_text("0 open leads")
    row.get_by_role("button", name="Leads").click()
    desk.settle()
    expect(desk.page.locator(f".st-key-contact_leads_{contact_id}")).to_contain_text("No leads yet.")
