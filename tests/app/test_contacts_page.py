"""The Contacts page: roles, search, creating contacts (with the duplicate warning), a contact's
leads, and the one lead-creation form started from a contact row (SPEC sections 3 and 11)."""
from __future__ import annotations

from datetime import time, timedelta

import pytest

from leadcore.leads import service as leads
from leadcore.ui import format as fmt
from tests.factories import BERLIN

CONTACTS = "pages/contacts.py"
LEAD_FORM_FIELDS = ["Source", "Lead type", "Subject", "Note", "Resubmission date", "Resubmission time",
                    "Editor"]


def _row_names(at) -> list[str]:
    """The contacts listed on the page, by the bold name in each row."""
    return [m.value.split("**")[1] for m in at.main.markdown if m.value.startswith("**")]


def _fill_contact(at, **fields) -> None:
    for name, value in fields.items():
        at.text_input(key=f"contact_{name}").input(value)


def _fill_lead(at, contact_id: int, subject: str = "Test drive VW Golf 8 GTI", note: str = "") -> None:
    at.text_input(key=f"new_lead_{contact_id}_subject").input(subject)
    if note:
        at.text_area(key=f"new_lead_{contact_id}_note").input(note)


# --- roles --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["seller", "supervisor", "manager", "analyst", "admin"])
def test_every_role_sees_the_contacts_page(by_role, contact, make_lead, people, open_app, role):
    make_lead(people.anna)
    at = open_app(by_role[role], page=CONTACTS)
    assert not at.exception
    assert at.title[0].value == "Contacts"
    assert _row_names(at) == ["Herr Max Mustermann"]
    assert any(c.value.startswith("1 open lead") for c in at.main.caption)
    writer = role != "analyst"
    labels = [b.label for b in at.main.button]
    assert ("New contact" in labels) is writer
    assert ("New lead" in labels) is writer
    assert ("Edit" in labels) is writer
    assert "Leads" in labels                      # everyone may look at a contact's leads


# --- the lead form from a contact row -----------------------------------------------------

def test_a_rows_new_lead_button_opens_the_lead_form_with_the_customer(people, contact, open_app, ui):
    at = open_app(people.anna, page=CONTACTS)
    with pytest.raises(KeyError):
        at.main.get_by_key("lead_form")                  # closed until a row asks for it
    at.button(key=f"new_lead_{contact.id}").click().run()
    assert not at.exception
    form = at.main.get_by_key("lead_form")
    assert [s.value for s in form.subheader] == ["New lead"]
    block = form.get_by_key(f"customer_block_{contact.id}")
    assert [c.value for c in block.caption] == ["Customer"]
    shown = "\n".join(t.value for t in block.text)
    for part in ("Herr Max Mustermann", "Hauptstraße 1", "10115 Berlin", "max.mustermann@example.de",
                 "0171 1234567"):
        assert part in shown
    widgets = [w for w in ui.flat(at) if getattr(w, "label", None) in LEAD_FORM_FIELDS]
    assert [w.label for w in widgets] == LEAD_FORM_FIELDS
    assert [b.label for b in form.button] == ["Save", "Cancel"]
    source = at.selectbox(key=f"new_lead_{contact.id}_source")
    assert source.options == ["mobile.de", "AutoScout24", "Website form", "Phone", "Walk-in", "E-mail"]
    assert at.selectbox(key=f"new_lead_{contact.id}_type").value == "new_car"
    editor = at.selectbox(key=f"new_lead_{contact.id}_editor")
    assert editor.value == people.anna.id                       # the creator by default
    assert "Eva Lang" not in editor.options                     # analysts cannot edit leads
    assert at.date_input(key=f"new_lead_{contact.id}_resubmission_date").value is None
    assert at.time_input(key=f"new_lead_{contact.id}_resubmission_time").value is None


def test_saving_the_lead_form_creates_one_lead_and_lists_it(people, contact, source_ids, open_app, cur,
                                                           count, events, lead_row, local, ui, tomorrow):
    at = open_app(people.anna, page=CONTACTS)
    at.button(key=f"new_lead_{contact.id}").click().run()
    key = f"new_lead_{contact.id}"
    at.selectbox(key=f"{key}_source").set_value(source_ids["AutoScout24"])
    at.selectbox(key=f"{key}_type").set_value("used_car")
    _fill_lead(at, contact.id, subject="  Passat Variant, trade-in of a Golf  ", note="Calls after 5 pm.")
    at.date_input(key=f"{key}_resubmission_date").set_value(tomorrow)
    at.time_input(key=f"{key}_resubmission_time").set_value(time(9, 30))
    ui.button(at, "Save").click().run()

    assert not at.exception
    assert count("leads") == 1
    [(lead_id,)] = cur.execute("SELECT id FROM leads").fetchall()
    lead = lead_row(lead_id)
    assert (lead["contact_id"], lead["source_id"], lead["lead_type"], lead["subject"], lead["note"],
            lead["editor_id"], lead["created_by"], lead["status"]) == (
        contact.id, source_ids["AutoScout24"], "used_car", "Passat Variant, trade-in of a Golf",
        "Calls after 5 pm.", people.anna.id, people.anna.id, "open")
    assert lead["resubmission_at"] == local(f"{tomorrow} 09:30")
    assert lead["due_at"] == local(f"{tomorrow} 09:30")
    assert events(lead_id) == [("created", "Passat Variant, trade-in of a Golf", people.anna.id)]
    assert count("lead_events") == 1

    # ... and the user lands on the Leads list, which shows the new lead at once.
    assert at.title[0].value == "Leads"
    assert [s.value for s in at.success] == [f"Lead #{lead_id} “Passat Variant, trade\\-in of a Golf” created."]
    assert at.toggle(key="lead_mine").value is True
    table = ui.table(at)
    assert table is not None
    assert table[["id", "customer", "subject", "editor", "source", "lead_type"]].values.tolist() == [
        [lead_id, "Max Mustermann", "Passat Variant, trade-in of a Golf", "Anna Becker", "AutoScout24",
         "Used car"]]


def test_the_editor_picked_in_the_form_gets_the_lead(people, contact, open_app, cur, ui):
    at = open_app(people.clara, page=CONTACTS)
    at.button(key=f"new_lead_{contact.id}").click().run()
    assert at.selectbox(key=f"new_lead_{contact.id}_editor").value == people.clara.id
    _fill_lead(at, contact.id, subject="Service appointment")
    at.selectbox(key=f"new_lead_{contact.id}_editor").set_value(people.ben.id)
    ui.button(at, "Save").click().run()
    assert not at.exception
    assert cur.execute("SELECT editor_id, created_by FROM leads").fetchall() == [(people.ben.id, people.clara.id)]
    assert ui.table(at)[["subject", "editor"]].values.tolist() == [["Service appointment", "Ben Schulz"]]
    assert [m.value for m in at.success] == [
        f"Lead #{cur.execute('SELECT max(id) FROM leads').fetchall()[0][0]} “Service appointment” "
        "created for Ben Schulz."]


def test_only_one_form_is_open_at_a_time(people, contact, open_app):
    at = open_app(people.anna, page=CONTACTS)
    at.button(key="new_contact").click().run()
    at.main.get_by_key("contact_form_box")
    at.button(key=f"new_lead_{contact.id}").click().run()
    at.main.get_by_key("lead_form")
    with pytest.raises(KeyError):
        at.main.get_by_key("contact_form_box")          # the lead form replaced the contact form
    at.button(key=f"edit_contact_{contact.id}").click().run()
    at.main.get_by_key("contact_form_box")
    with pytest.raises(KeyError):
        at.main.get_by_key("lead_form")


@pytest.mark.parametrize("case", [
    "empty subject", "subject too long", "note too long", "resubmission in the past",
    "date without time", "time without date",
])
def test_bad_input_in_the_lead_form_shows_a_message_under_the_field_and_stores_nothing(
        people, contact, open_app, count, ui, now, case):
    key = f"new_lead_{contact.id}"
    at = open_app(people.anna, page=CONTACTS)
    at.button(key=f"new_lead_{contact.id}").click().run()
    subject, note, day, clock = "Test drive", "", None, None
    if case == "empty subject":
        subject = "   "
        field, message = f"{key}_subject", "Subject is required."
    elif case == "subject too long":
        subject = "x" * 201
        field, message = f"{key}_subject", "Subject can have at most 200 characters."
    elif case == "note too long":
        note = "n" * 10_001
        field, message = f"{key}_note", "Note can have at most 10,000 characters."
    elif case == "resubmission in the past":
        day, clock = now.date(), time(9, 45)         # a quarter of an hour ago
        field, message = f"{key}_resubmission_time", "Resubmission must be in the future."
    elif case == "date without time":
        day = now.date() + timedelta(days=1)
        field, message = f"{key}_resubmission_time", "Resubmission time is required when a date is set."
    else:
        clock = time(11, 0)
        field, message = f"{key}_resubmission_time", "Resubmission date is required when a time is set."
    _fill_lead(at, contact.id, subject=subject, note=note)
    if day is not None:
        at.date_input(key=f"{key}_resubmission_date").set_value(day)
    if clock is not None:
        at.time_input(key=f"{key}_resubmission_time").set_value(clock)
    ui.button(at, "Save").click().run()

    assert not at.exception
    assert ui.error_under(at, field) == message
    assert [e.value for e in at.error] == [message]            # that one message, nowhere else
    assert count("leads") == 0 and count("lead_events") == 0
    assert at.title[0].value == "Contacts"                     # the form stays open, input kept
    assert at.text_input(key=f"{key}_subject").value == subject

    # Correcting the input then saves exactly one lead.
    at.text_input(key=f"{key}_subject").input("Test drive")
    at.text_area(key=f"{key}_note").input("")
    at.date_input(key=f"{key}_resubmission_date").set_value(now.date() + timedelta(days=1))
    at.time_input(key=f"{key}_resubmission_time").set_value(time(11, 0))
    ui.button(at, "Save").click().run()
    assert not at.exception and not at.error
    assert count("leads") == 1 and count("lead_events") == 1
    assert at.title[0].value == "Leads"


def test_cancel_closes_the_lead_form_without_storing(people, contact, open_app, count):
    at = open_app(people.anna, page=CONTACTS)
    at.button(key=f"new_lead_{contact.id}").click().run()
    _fill_lead(at, contact.id)
    at.button(key=f"new_lead_{contact.id}_cancel").click().run()
    assert not at.exception
    with pytest.raises(KeyError):
        at.main.get_by_key("lead_form")
    assert count("leads") == 0


# --- creating a contact --------------------------------------------------------------------

def test_new_contact_creates_the_contact_and_shows_it(people, contact, open_app, cur, count, ui):
    at = open_app(people.anna, page=CONTACTS)
    at.button(key="new_contact").click().run()
    assert [s.value for s in at.main.get_by_key("contact_form_box").subheader] == ["New contact"]
    _fill_contact(at, first_name="Erika", last_name="Schmidt", email="Erika.Schmidt@Example.de",
                  mobile="0160 7654321", city="Potsdam")
    ui.button(at, "Save contact").click().run()
    assert not at.exception and not at.error
    assert count("contacts") == 2
    assert cur.execute("SELECT first_name, last_name, email, mobile, city FROM contacts"
                       " WHERE last_name = 'Schmidt'").fetchall() == [
        ("Erika", "Schmidt", "Erika.Schmidt@example.de", "+491607654321", "Potsdam")]
    assert [s.value for s in at.success] == ["Contact Erika Schmidt created."]
    with pytest.raises(KeyError):
        at.main.get_by_key("contact_form_box")
    assert at.text_input(key="contact_search").value == "Schmidt"
    assert _row_names(at) == ["Erika Schmidt"]


@pytest.mark.parametrize("fields, field, message", [
    ({"first_name": "Erika"}, "contact_last_name", "Last name or company is required."),
    ({"last_name": "Schmidt", "email": "erika.schmidt@"}, "contact_email", "E-mail is not a valid address."),
    ({"last_name": "Schmidt", "phone": "12"}, "contact_phone", "Phone is not a valid phone number."),
], ids=["no last name or company", "bad e-mail", "bad phone"])
def test_bad_contact_input_shows_a_message_under_the_field_and_stores_nothing(
        people, open_app, count, ui, fields, field, message):
    at = open_app(people.anna, page=CONTACTS)
    at.button(key="new_contact").click().run()
    _fill_contact(at, **fields)
    ui.button(at, "Save contact").click().run()
    assert not at.exception
    assert ui.error_under(at, field) == message
    assert [e.value for e in at.error] == [message]
    assert count("contacts") == 0
    assert at.main.get_by_key("contact_form_box") is not None       # still open, input kept
    for name, value in fields.items():
        assert at.text_input(key=f"contact_{name}").value == value


def test_a_company_alone_is_a_valid_contact(people, open_app, cur, ui):
    at = open_app(people.anna, page=CONTACTS)
    at.button(key="new_contact").click().run()
    _fill_contact(at, company="Autovermietung Nord GmbH")
    ui.button(at, "Save contact").click().run()
    assert not at.error
    assert cur.execute("SELECT company, last_name FROM contacts").fetchall() == [("Autovermietung Nord GmbH", "")]


def test_the_same_e_mail_warns_of_a_duplicate_before_storing(people, contact, open_app, count, ui):
    at = open_app(people.anna, page=CONTACTS)
    at.button(key="new_contact").click().run()
    _fill_contact(at, first_name="M.", last_name="Mustermann", email="MAX.MUSTERMANN@example.de")
    ui.button(at, "Save contact").click().run()
    assert not at.exception
    assert count("contacts") == 1
    [warning] = at.warning
    assert "A contact with the same e-mail or phone exists already" in warning.value
    assert "Herr Max Mustermann" in warning.value
    confirm = at.checkbox(key="contact_confirm_duplicate")
    assert confirm.label == "Save anyway: this is a different person"

    ui.button(at, "Save contact").click().run()                 # saving again without the tick
    assert count("contacts") == 1

    at.checkbox(key="contact_confirm_duplicate").check()
    ui.button(at, "Save contact").click().run()
    assert not at.exception and not at.warning
    assert count("contacts") == 2
    assert count("contacts", "lower(email) = 'max.mustermann@example.de'") == 2


def test_the_same_phone_in_another_notation_also_warns(people, contact, open_app, count, ui):
    at = open_app(people.anna, page=CONTACTS)
    at.button(key="new_contact").click().run()
    _fill_contact(at, last_name="Muster", mobile="+49 171 1234567")
    ui.button(at, "Save contact").click().run()
    assert len(at.warning) == 1 and "Herr Max Mustermann" in at.warning[0].value
    assert count("contacts") == 1


# --- pick mode: the Leads page's "New lead" -----------------------------------------------

def test_in_pick_mode_a_new_contact_opens_the_lead_form_directly(people, contact, open_app, cur,
                                                                 count, ui):
    at = open_app(people.anna)
    at.button(key="new_lead").click().run()
    assert at.query_params == {"pick": "1"}
    assert "Choose the contact for the new lead" in at.info[0].value
    at.button(key="new_contact").click().run()
    _fill_contact(at, first_name="Jonas", last_name="Weber", email="jonas.weber@example.de")
    ui.button(at, "Save contact").click().run()
    assert not at.exception and not at.error
    [(new_id,)] = cur.execute("SELECT id FROM contacts WHERE last_name = 'Weber'").fetchall()
    form = at.main.get_by_key("lead_form")
    block = form.get_by_key(f"customer_block_{new_id}")
    assert block.text[0].value.startswith("Jonas Weber")
    assert "✉ jonas.weber@example.de" in block.text[1].value

    _fill_lead(at, new_id, subject="Financing offer Tiguan")
    ui.button(at, "Save").click().run()
    assert not at.exception
    assert cur.execute("SELECT contact_id, subject FROM leads").fetchall() == [(new_id, "Financing offer Tiguan")]
    assert at.title[0].value == "Leads"
    assert at.query_params == {}                                   # pick mode is over
    assert ui.table(at)["customer"].tolist() == ["Jonas Weber"]


def test_outside_pick_mode_a_new_contact_does_not_open_the_lead_form(people, open_app, ui):
    at = open_app(people.anna, page=CONTACTS)
    assert not at.info or "Choose the contact" not in at.info[0].value
    at.button(key="new_contact").click().run()
    _fill_contact(at, last_name="Weber")
    ui.button(at, "Save contact").click().run()
    with pytest.raises(KeyError):
        at.main.get_by_key("lead_form")


# --- search and a contact's leads ------------------------------------------------------------

def test_the_search_filters_the_contacts(people, contact, add_contact, open_app):
    add_contact(first_name="Erika", last_name="Schmidt", city="Potsdam", phone="0331 998877")
    add_contact(company="Autovermietung Nord GmbH", email="info@av-nord.example")
    at = open_app(people.anna, page=CONTACTS)
    assert _row_names(at) == ["Autovermietung Nord GmbH", "Herr Max Mustermann", "Erika Schmidt"]
    at.text_input(key="contact_search").input("potsdam").run()
    assert _row_names(at) == ["Erika Schmidt"]
    at.text_input(key="contact_search").input("av-nord").run()
    assert _row_names(at) == ["Autovermietung Nord GmbH"]
    at.text_input(key="contact_search").input("+49 171 1234567").run()        # phone, other notation
    assert _row_names(at) == ["Herr Max Mustermann"]
    at.text_input(key="contact_search").input("Max Mustermann").run()
    assert _row_names(at) == ["Herr Max Mustermann"]
    at.text_input(key="contact_search").input("nobody here").run()
    assert _row_names(at) == []
    assert "No contacts match" in at.info[0].value


def test_a_contacts_leads_button_shows_the_leads_the_user_may_see(people, contact, add_contact, cur,
                                                                   make_lead, reason_ids, now, local, open_app):
    other = add_contact(last_name="Schmidt")
    mine = make_lead(people.anna, subject="Golf test drive")
    done = make_lead(people.anna, subject="Winter tyres")
    leads.complete(cur, people.anna, now, done, reason_ids["sold"])
    make_lead(people.ben, subject="Ben's lead on the same contact")
    make_lead(people.anna, subject="Another contact's lead", contact_id=other.id)
    at = open_app(people.anna, page=CONTACTS)
    with pytest.raises(KeyError):
        at.main.get_by_key(f"contact_leads_{contact.id}")
    at.button(key=f"leads_of_{contact.id}").click().run()
    assert not at.exception
    box = at.main.get_by_key(f"contact_leads_{contact.id}")
    assert box.markdown[0].value == "**Leads of this contact** (2)"
    assert [t.value for t in box.text] == [
        f"#{mine}", "Golf test drive", f"{fmt.when(local('2026-11-27 12:00'), BERLIN)} {fmt.traffic_light('on time')}",
        f"#{done}", "Winter tyres", fmt.status("completed"),
    ]
    at.button(key=f"open_lead_{mine}").click().run()
    assert not at.exception
    assert at.query_params == {"lead": str(mine)}
    assert [s.value for s in at.subheader] == [f"#{mine} · Golf test drive"]


def test_a_supervisor_sees_the_teams_leads_of_a_contact(people, contact, make_lead, open_app):
    make_lead(people.anna, subject="Anna's lead")
    make_lead(people.ben, subject="Ben's lead")
    make_lead(people.dirk, subject="The manager's own lead")
    at = open_app(people.clara, page=CONTACTS)
    at.button(key=f"leads_of_{contact.id}").click().run()
    box = at.main.get_by_key(f"contact_leads_{contact.id}")
    assert box.markdown[0].value == "**Leads of this contact** (2)"
    assert {"Anna's lead", "Ben's lead"} <= {t.value for t in box.text}
    assert "The manager's own lead" not in {t.value for t in box.text}


def test_the_lead_form_takes_a_vehicle_of_interest(people, contact, open_app, cur, ui):
    at = open_app(people.anna, page=CONTACTS)
    at.button(key=f"new_lead_{contact.id}").click().run()
    _fill_lead(at, contact.id, subject="Golf 8 GTI, Probefahrt")
    key = f"new_lead_{contact.id}_vehicle"
    at.selectbox(key=f"{key}_interest").set_value("test_drive")
    at.text_input(key=f"{key}_make").input("Volkswagen")
    at.text_input(key=f"{key}_model").input("Golf 8 GTI")
    at.text_input(key=f"{key}_year").input("EZ 2021")
    at.text_input(key=f"{key}_vin").input("WVWZZZ1KZAW00000")    # 16 characters: kept, flagged
    ui.button(at, "Save").click().run()
    assert not at.exception
    assert cur.execute(
        "SELECT vehicle_interest, vehicle_make, vehicle_model, vehicle_year, vehicle_vin, vehicle_vin_valid"
        " FROM leads").fetchall() == [("test_drive", "Volkswagen", "Golf 8 GTI", 2021, "WVWZZZ1KZAW00000", False)]


def test_a_year_that_is_no_year_is_refused_under_its_field(people, contact, open_app, count, ui):
    at = open_app(people.anna, page=CONTACTS)
    at.button(key=f"new_lead_{contact.id}").click().run()
    _fill_lead(at, contact.id)
    at.text_input(key=f"new_lead_{contact.id}_vehicle_year").input("soon")
    ui.button(at, "Save").click().run()
    assert not at.exception
    assert ui.error_under(at, f"new_lead_{contact.id}_vehicle_year") == "Year must be a four-digit year such as 2021."
    assert count("leads") == 0


def test_a_lead_without_a_vehicle_stores_none(people, contact, open_app, cur, ui):
    at = open_app(people.anna, page=CONTACTS)
    at.button(key=f"new_lead_{contact.id}").click().run()
    _fill_lead(at, contact.id)
    ui.button(at, "Save").click().run()
    assert cur.execute("SELECT vehicle_make, vehicle_interest, vehicle_vin FROM leads").fetchall() == [
        (None, None, None)]
