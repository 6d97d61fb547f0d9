"""Contacts: a person types one in, looks for duplicates, searches and pages the list."""
from __future__ import annotations

import pytest

from leadcore import auth
from leadcore.contacts import service as contacts
from leadcore.contacts.service import ContactInput
from leadcore.errors import NotFound, ValidationErrors


def _errors(cur, now, **fields) -> dict[str, str]:
    with pytest.raises(ValidationErrors) as caught:
        contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(**fields))
    return caught.value.by_field()


# --- creating -------------------------------------------------------------------------------

def test_a_new_contact_is_stored_trimmed_and_normalised(cur, now):
    c = contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(
        first_name="  Erika ", last_name=" Musterfrau ", email="  Erika.Musterfrau@Example.DE ",
        phone="0171 1234567", mobile="+49 (0)160 9876543", city=" Köln "))
    assert (c.first_name, c.last_name, c.city) == ("Erika", "Musterfrau", "Köln")
    assert c.email == "Erika.Musterfrau@example.de"      # domain lower-cased, local part kept
    assert c.phone == "+491711234567"
    assert c.mobile == "+491609876543"
    assert c.country == "DE"
    assert contacts.get_contact(cur, c.id) == c
    row = cur.execute("SELECT sort_name, created_at = updated_at FROM contacts WHERE id = ?",
                      [c.id]).fetchall()[0]
    assert row == ("musterfrau, erika", True)


def test_a_company_without_a_last_name_is_enough(cur, now):
    c = contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(company="Autovermietung Schmidt GmbH"))
    assert c.display_name == "Autovermietung Schmidt GmbH"
    assert cur.execute("SELECT sort_name FROM contacts WHERE id = ?", [c.id]).fetchall() == [
        ("autovermietung schmidt gmbh, ",)]


def test_display_name_and_address_lines(contact):
    assert contact.display_name == "Herr Max Mustermann"
    assert contact.address_lines == ["Hauptstraße 1", "10115 Berlin"]   # the home country goes unsaid
    abroad = contacts.Contact(last_name="Gruber", street="Ring 1", postal_code="1010", city="Wien",
                              country="AT")
    assert abroad.address_lines == ["Ring 1", "1010 Wien", "AT"]
    assert contacts.format_phone(contact.phone) == "0171 1234567"
    assert contacts.format_phone("+12025550100") == "+1 202-555-0100"
    assert contacts.format_phone(None) == ""


def test_last_name_or_company_is_required(cur, now, count):
    before = count("contacts")
    assert _errors(cur, now, first_name="Erika", last_name="  ", company="") == {
        "last_name": "Last name or company is required."}
    assert count("contacts") == before


def test_an_invalid_email_names_the_email_field(cur, now, count):
    assert _errors(cur, now, last_name="Musterfrau", email="erika@") == {
        "email": "E-mail is not a valid address."}
    assert count("contacts") == 0


@pytest.mark.parametrize("field", ["phone", "mobile"])
@pytest.mark.parametrize("typed", ["call me", "abc", "0171 1234567 890123"])
def test_an_invalid_phone_names_its_field(cur, now, count, field, typed):
    errors = _errors(cur, now, last_name="Musterfrau", **{field: typed})
    assert list(errors) == [field]
    assert errors[field] == f"{'Phone' if field == 'phone' else 'Mobile'} is not a valid phone number."
    assert count("contacts") == 0


@pytest.mark.parametrize("typed", ["0171", "12"])
def test_an_incomplete_phone_number_is_refused(cur, now, typed):
    assert list(_errors(cur, now, last_name="Musterfrau", phone=typed)) == ["phone"]


@pytest.mark.parametrize("country, typed, e164", [
    ("AT", "0664 1234567", "+436641234567"),
    ("CH", "079 123 45 67", "+41791234567"),
])
def test_a_national_number_of_a_foreign_contact_uses_the_contacts_country(cur, now, country, typed, e164):
    c = contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(last_name="Huber", country=country, mobile=typed))
    assert c.mobile == e164


@pytest.mark.parametrize("field", ["last_name", "first_name", "company", "street", "city"])
def test_a_field_over_200_characters_is_refused(cur, now, count, field):
    values = {"last_name": "Musterfrau", field: "x" * 201}
    errors = _errors(cur, now, **values)
    assert list(errors) == [field]
    assert "at most 200 characters" in errors[field]
    assert count("contacts") == 0


def test_a_field_of_exactly_200_characters_is_accepted(cur, now):
    c = contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(last_name="x" * 200))
    assert len(c.last_name) == 200


def test_every_bad_field_is_reported_at_once(cur, now):
    errors = _errors(cur, now, first_name="Erika", email="no mail", phone="abc", city="y" * 201)
    assert set(errors) == {"last_name", "email", "phone", "city"}


# --- duplicates -----------------------------------------------------------------------------

def test_similar_contacts_finds_the_same_email_whatever_its_case(cur, now, contact):
    found = contacts.similar_contacts(cur, ContactInput(last_name="M", email="MAX.Mustermann@EXAMPLE.de"))
    assert [c.id for c in found] == [contact.id]


def test_similar_contacts_finds_the_same_phone_in_phone_or_mobile(cur, now, contact):
    other = contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(last_name="Schulz", mobile="0171 1234567"))
    typed = contacts.validate(ContactInput(last_name="Neu", phone="+49 171 123 45 67"))
    assert [c.id for c in contacts.similar_contacts(cur, typed)] == [contact.id, other.id]
    typed_as_mobile = contacts.validate(ContactInput(last_name="Neu", mobile="01711234567"))
    assert [c.id for c in contacts.similar_contacts(cur, typed_as_mobile)] == [contact.id, other.id]


def test_similar_contacts_finds_a_phone_typed_in_national_form(cur, now, contact):
    found = contacts.similar_contacts(cur, ContactInput(last_name="Neu", phone="0171 1234567"))
    assert [c.id for c in found] == [contact.id]


def test_similar_contacts_ignores_the_contact_itself_deleted_ones_and_empty_input(cur, now, contact):
    same = ContactInput(last_name="M", email="max.mustermann@example.de")
    assert contacts.similar_contacts(cur, same, exclude_id=contact.id) == []
    assert contacts.similar_contacts(cur, ContactInput(last_name="Mustermann")) == []
    assert contacts.similar_contacts(cur, ContactInput(last_name="M", email="other@example.de",
                                                       phone="+4930111222")) == []
    contacts.delete_contact(cur, auth.SYSTEM, now, contact.id)
    assert contacts.similar_contacts(cur, same) == []


# --- searching ------------------------------------------------------------------------------

@pytest.fixture
def people(cur, now, contact):
    """Max Mustermann (Berlin, +491711234567) plus three others."""
    made = {"max": contact}
    for key, data in {
        "erika": ContactInput(first_name="Erika", last_name="Musterfrau", email="erika@web.example",
                              phone="030 9876543", city="Potsdam"),
        "bmw": ContactInput(company="Autohaus Hofmann KG", email="info@hofmann.example",
                            city="Hamburg", phone="040 5556667"),
        "jan": ContactInput(first_name="Jan", last_name="Kowalski", company="Kurierdienst Jan",
                            mobile="0151 22223333", city="Leipzig"),
    }.items():
        made[key] = contacts.create_contact(cur, auth.SYSTEM, now, data)
    return made


def _found(cur, people, query) -> list[str]:
    ids = contacts.search_contacts(cur, query).rows["id"].astype(int).tolist()
    return sorted(k for k, c in people.items() if c.id in ids)


@pytest.mark.parametrize("query, expected", [
    pytest.param("muster", ["erika", "max"], id="name-fragment"),
    pytest.param("MUSTERMANN", ["max"], id="case-insensitive"),
    pytest.param("Max Mustermann", ["max"], id="first-and-last-name"),
    pytest.param("hofmann", ["bmw"], id="company"),
    pytest.param("Kurierdienst", ["jan"], id="company-of-a-person"),
    pytest.param("erika@web", ["erika"], id="email"),
    pytest.param("potsdam", ["erika"], id="city"),
    pytest.param("", ["bmw", "erika", "jan", "max"], id="empty-finds-all"),
    pytest.param("   ", ["bmw", "erika", "jan", "max"], id="blank-finds-all"),
    pytest.param("nobody", [], id="no-match"),
])
def test_search_by_text(cur, people, query, expected):
    assert _found(cur, people, query) == expected


@pytest.mark.parametrize("query", [
    "0171 1234567", "01711234567", "+49 171 1234567", "+491711234567", "0049 171 1234567",
    "171 1234567", "1234567", "0171/123 45 67",
])
def test_search_by_phone_digits_with_or_without_leading_0_or_plus_49(cur, people, query):
    assert _found(cur, people, query) == ["max"]


@pytest.mark.parametrize("query", ["+49 (0)171 1234567", "+49(0)1711234567"])
def test_search_by_phone_in_the_plus_49_bracket_0_notation(cur, people, query):
    # (the contact form accepts this notation: see test_a_new_contact_is_stored_trimmed_and_normalised)
    assert _found(cur, people, query) == ["max"]


def test_search_by_mobile_digits(cur, people):
    assert _found(cur, people, "0151 2222 3333") == ["jan"]


def test_search_results_count_the_open_leads_of_each_contact(cur, now, people, seller, make_lead):
    make_lead(seller)
    make_lead(seller, subject="Second request")
    rows = contacts.search_contacts(cur, "muster").rows
    counts = dict(zip(rows["id"].astype(int), rows["open_leads"]))
    assert counts == {people["max"].id: 2, people["erika"].id: 0}


def test_paging_45_contacts_by_20_returns_each_once_in_alphabetical_order(cur, now):
    # Inserted in a scrambled order, with equal sort names so the id tie-break is needed.
    names = [f"Name{(i * 17) % 45:02d}" for i in range(45)]
    names[10] = names[11] = names[12] = "Schmidt"
    made = [contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(first_name="Eva", last_name=n)) for n in names]
    seen, after, pages = [], None, []
    while True:
        page = contacts.search_contacts(cur, "", after=after, page_size=20)
        pages.append(len(page.rows))
        seen += list(zip(page.rows["sort_name"], page.rows["id"].astype(int)))
        after = page.next_after
        if after is None:
            break
    assert pages == [20, 20, 5]
    assert sorted(i for _, i in seen) == sorted(c.id for c in made)      # each exactly once
    assert len(seen) == len(set(seen)) == 45
    assert seen == sorted(seen)                                          # by (sort_name, id)
    assert [s for s, _ in seen][:3] == ["name00, eva", "name01, eva", "name02, eva"]
    schmidts = [i for s, i in seen if s == "schmidt, eva"]
    assert schmidts == sorted(schmidts) and len(schmidts) == 3


def test_a_search_pages_too(cur, now):
    for i in range(25):
        contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(last_name=f"Becker{i:02d}"))
    contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(last_name="Zimmer"))
    first = contacts.search_contacts(cur, "becker", page_size=20)
    second = contacts.search_contacts(cur, "becker", after=first.next_after, page_size=20)
    assert len(first.rows) == 20 and len(second.rows) == 5 and second.next_after is None
    assert list(second.rows["last_name"]) == [f"Becker{i:02d}" for i in range(20, 25)]


def test_names_with_umlauts_sort_where_a_german_reader_looks_for_them(cur, now):
    for name in ["Zander", "Özdemir", "Peters", "Ärmel", "Adler", "Baum"]:
        contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(last_name=name))
    rows = contacts.search_contacts(cur, "").rows
    assert list(rows["last_name"]) == ["Adler", "Ärmel", "Baum", "Özdemir", "Peters", "Zander"]


# --- deleting and changing ------------------------------------------------------------------

def test_a_deleted_contact_is_hidden_everywhere(cur, now, people, count):
    contacts.delete_contact(cur, auth.SYSTEM, now, people["max"].id)
    assert _found(cur, people, "") == ["bmw", "erika", "jan"]
    assert _found(cur, people, "mustermann") == []
    assert _found(cur, people, "0171 1234567") == []
    with pytest.raises(NotFound):
        contacts.get_contact(cur, people["max"].id)
    assert count("contacts") == 4          # kept (leads point at it), only hidden


def test_update_contact_changes_fields_and_position_in_the_list(cur, now, people, berlin):
    later = berlin("2026-11-28 09:30")
    changed = contacts.update_contact(cur, auth.SYSTEM, later, people["max"].id, ContactInput(
        first_name="Max", last_name="Abel", email="MAX@Neu.example", phone="030 1234567",
        city="Berlin"))
    assert (changed.last_name, changed.email, changed.phone, changed.salutation) == (
        "Abel", "MAX@neu.example", "+49301234567", "")
    assert contacts.get_contact(cur, people["max"].id) == changed
    assert contacts.search_contacts(cur, "").rows["last_name"].iloc[0] == "Abel"
    created, updated = cur.execute("SELECT created_at, updated_at FROM contacts WHERE id = ?",
                                   [changed.id]).fetchall()[0]
    assert created == now and updated == later


def test_update_contact_validates_like_create_and_keeps_the_old_data(cur, now, contact):
    with pytest.raises(ValidationErrors) as caught:
        contacts.update_contact(cur, auth.SYSTEM, now, contact.id, ContactInput(first_name="Max", email="bad"))
    assert set(caught.value.by_field()) == {"last_name", "email"}
    assert contacts.get_contact(cur, contact.id) == contact


def test_updating_a_deleted_or_unknown_contact_is_not_found(cur, now, contact):
    contacts.delete_contact(cur, auth.SYSTEM, now, contact.id)
    for contact_id in (contact.id, 999):
        with pytest.raises(NotFound):
            contacts.update_contact(cur, auth.SYSTEM, now, contact_id, ContactInput(last_name="X"))


def test_search_ignores_case_accents_and_eszett(cur, now):
    contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(first_name="Jürgen", last_name="Müßig",
                                                            city="Köln"))
    for query in ("MÜSSIG", "mussig", "jurgen muß", "koln"):
        rows = contacts.search_contacts(cur, query).rows
        assert rows["last_name"].tolist() == ["Müßig"], query


def test_search_wildcards_are_taken_literally(cur, now):
    contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(last_name="Auto_Haus GmbH"))
    contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(last_name="AutoXHaus"))
    assert contacts.search_contacts(cur, "auto_haus").rows["last_name"].tolist() == ["Auto_Haus GmbH"]
    assert contacts.search_contacts(cur, "%").rows.empty


def test_an_edit_refreshes_what_search_finds(cur, now, contact):
    contacts.update_contact(cur, auth.SYSTEM, now, contact.id, contacts.ContactInput(last_name="Schmidt", first_name="Max"))
    assert contacts.search_contacts(cur, "mustermann").rows.empty
    assert contacts.search_contacts(cur, "schmidt").rows["id"].tolist() == [contact.id]


@pytest.mark.parametrize("first, last, company", [
    ("Max", "Mustermann", ""), ("", "Mustermann", "Schmidt GmbH"), ("", "", "Schmidt GmbH"),
    ("Jörg", "Müller", "Autohaus Müller KG")])
def test_the_customer_name_in_sql_is_the_contacts_name(cur, now, first, last, company):
    """Lists, notifications and mails name the customer in SQL; the detail in Python: one rule."""
    made = contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(salutation="Herr", first_name=first,
                                                          last_name=last, company=company))
    [(in_sql,)] = cur.execute(f"SELECT {contacts.customer_name_sql('c')} FROM contacts c WHERE id = ?",
                              [made.id]).fetchall()
    assert in_sql == made.name
