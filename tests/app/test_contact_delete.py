"""Deleting a contact from its edit form (SPEC section 3: a contact can be deleted meanwhile):
writers only, after a confirmation; the contact is hidden, never removed; one with open leads
stays and the form says why."""
from __future__ import annotations

import pytest

from leadcore.leads import service as leads

CONTACTS = "pages/contacts.py"


def _edit(open_app, user, contact_id):
    at = open_app(user, page=CONTACTS)
    at.button(key=f"edit_contact_{contact_id}").click().run()
    assert not at.exception
    return at


def test_delete_asks_first_then_hides_the_contact(people, contact, open_app, count):
    at = _edit(open_app, people.anna, contact.id)
    at.button(key="contact_delete").click().run()
    assert not at.exception
    assert count("contacts", "NOT deleted") == 1                       # nothing yet: it asks
    assert any("Delete this contact?" in w.value for w in at.warning)
    at.button(key="contact_delete_confirm").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Contact Herr Max Mustermann deleted."]
    assert count("contacts") == 1 and count("contacts", "deleted") == 1   # hidden, not removed
    with pytest.raises(KeyError):
        at.main.get_by_key("contact_form_box")
    assert not [b for b in at.button if b.key == f"edit_contact_{contact.id}"]   # gone from the list


def test_keep_goes_back_without_deleting(people, contact, open_app, count):
    at = _edit(open_app, people.anna, contact.id)
    at.button(key="contact_delete").click().run()
    at.button(key="contact_delete_keep").click().run()
    assert count("contacts", "deleted") == 0
    assert at.button(key="contact_delete")                                # asks again next time


def test_a_contact_with_open_leads_is_not_deleted_and_the_form_says_so(people, contact, make_lead,
                                                                       open_app, count):
    make_lead(people.anna)
    at = _edit(open_app, people.anna, contact.id)
    at.button(key="contact_delete").click().run()
    at.button(key="contact_delete_confirm").click().run()
    assert not at.exception
    assert [e.value for e in at.main.get_by_key("contact_form_box").error] == [
        "This contact has open leads, so it stays; complete its leads first."]
    assert count("contacts", "deleted") == 0


def test_a_contact_whose_leads_are_completed_can_be_deleted(people, contact, make_lead, reason_ids,
                                                            open_app, cur, now, count):
    lead = make_lead(people.anna)
    leads.complete(cur, people.anna, now, lead, reason_ids["sold"])
    at = _edit(open_app, people.anna, contact.id)
    at.button(key="contact_delete").click().run()
    at.button(key="contact_delete_confirm").click().run()
    assert count("contacts", "deleted") == 1


def test_an_analyst_gets_no_edit_form_and_so_no_delete(people, contact, open_app):
    at = open_app(people.eva, page=CONTACTS)
    assert not [b for b in at.button if b.key in (f"edit_contact_{contact.id}", "contact_delete")]
