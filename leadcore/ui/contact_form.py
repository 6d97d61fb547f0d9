"""Create, edit or delete a contact, with a warning before a likely duplicate is stored and a
confirmation step before a contact is deleted (hidden, never removed)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import streamlit as st

from leadcore.contacts import service as contacts
from leadcore.contacts.service import Contact, ContactInput, format_phone
from leadcore.errors import NotFound
from leadcore.i18n import _
from leadcore.ui import actions, session
from leadcore.ui import format as fmt
from leadcore.ui.fields import field_error
from leadcore.ui.lead_form import open_lead_form

OPEN_KEY = "contact_form_target"   # "new" or the contact id; not "contact_form", the st.form key
SCOPE = "contact_form"
CONFIRM_KEY = "contact_form_confirm_delete"
_LAYOUT = [("salutation", "first_name", "last_name"), ("company",), ("email", "phone", "mobile"),
           ("street",), ("postal_code", "city", "country")]


def open_contact_form(contact_id: int | None = None, then_new_lead: bool = False) -> None:
    st.session_state[OPEN_KEY] = contact_id if contact_id is not None else "new"
    st.session_state["contact_form_then_lead"] = then_new_lead
    for name in ("contact_form_similar", CONFIRM_KEY):
        st.session_state.pop(name, None)
    actions.forget_errors(SCOPE)
    values = ContactInput()
    if contact_id is not None:
        try:
            values = contacts.get_contact(session.cursor(), contact_id)
        except NotFound:
            return
    for name, value in asdict(values).items():
        if name != "id":
            shown = format_phone(value) if name in ("phone", "mobile") else value
            st.session_state[f"contact_{name}"] = shown


def close_contact_form() -> None:
    for name in (OPEN_KEY, CONFIRM_KEY):
        st.session_state.pop(name, None)


def contact_form(on_saved: Callable[[Contact], None]) -> None:
    """The open contact form, if any. `on_saved(contact)` runs after a save, so the page decides
    what its list shows next."""
    target = st.session_state.get(OPEN_KEY)
    if target is None:
        return
    errors = actions.errors(SCOPE)
    similar: list[Contact] = st.session_state.get("contact_form_similar", [])
    with st.container(border=True, key="contact_form_box"):
        st.subheader(_("New contact") if target == "new" else _("Edit contact"))
        with st.form("contact_form", border=False):
            for row in _LAYOUT:
                for column, name in zip(st.columns(len(row)), row):
                    with column:
                        st.text_input(_(contacts.LABELS[name]), key=f"contact_{name}")
                        field_error(errors, name)
            if similar:
                st.warning(_("A contact with the same e-mail or phone exists already:") + "\n\n" + "\n".join(
                    f"- {fmt.md_escape(c.display_name)} · {fmt.md_escape(c.email or format_phone(c.phone))}"
                    for c in similar), icon=":material/warning:")
                st.checkbox(_("Save anyway: this is a different person"), key="contact_confirm_duplicate")
            st.form_submit_button(_("Save contact"), type="primary", on_click=_save, args=(on_saved,))
        actions.outcome(SCOPE, contacts.LABELS)
        if target != "new":
            _delete_step(target)
        st.button(_("Cancel"), key="contact_form_cancel", on_click=close_contact_form)


def _save(on_saved: Callable[[Contact], None]) -> None:
    state = st.session_state
    target = state.get(OPEN_KEY)
    data = ContactInput(**{name: state.get(f"contact_{name}") or "" for name in contacts.LABELS})

    def work() -> Contact | None:
        cur, now = session.cursor(), session.now()
        clean = contacts.validate(data)
        exclude = None if target == "new" else target
        similar = contacts.similar_contacts(cur, clean, exclude_id=exclude)
        if similar and not state.get("contact_confirm_duplicate"):
            state["contact_form_similar"] = similar
            return None                 # not saved yet: the form asks first
        state.pop("contact_form_similar", None)
        if target == "new":
            return contacts.create_contact(cur, session.acting_user(), now, clean)
        return contacts.update_contact(cur, session.acting_user(), now, target, clean)

    actions.run(SCOPE, work, None, then=lambda contact: _saved(target, contact, on_saved))


def _saved(target: int | str, contact: Contact | None, on_saved: Callable[[Contact], None]) -> None:
    if contact is None:
        return
    name = fmt.md_escape(contact.display_name)
    session.flash((_("Contact {name} created.") if target == "new" else _("Contact {name} saved."))
                  .format(name=name))
    close_contact_form()
    on_saved(contact)
    if st.session_state.pop("contact_form_then_lead", False):
        open_lead_form(contact.id)


# --- deleting -----------------------------------------------------------------------------------

def _delete_step(contact_id: int) -> None:
    """"Delete contact", then a second, explicit confirmation."""
    state = st.session_state
    if state.get(CONFIRM_KEY) != contact_id:
        st.button(_("Delete contact"), key="contact_delete", icon=":material/delete:",
                  on_click=lambda: state.update({CONFIRM_KEY: contact_id}))
        return
    st.warning(_("Delete this contact? It disappears from the search and cannot get new leads; "
                 "its completed leads keep it."), icon=":material/warning:")
    confirm, keep = st.columns(2)
    confirm.button(_("Yes, delete the contact"), key="contact_delete_confirm", type="primary",
                   icon=":material/delete:", on_click=_delete, args=(contact_id,), width="stretch")
    keep.button(_("Keep the contact"), key="contact_delete_keep", width="stretch",
                on_click=lambda: state.pop(CONFIRM_KEY, None))


def _delete(contact_id: int) -> None:
    state = st.session_state

    def work() -> str:
        cur = session.cursor()
        name = contacts.get_contact(cur, contact_id).display_name
        contacts.delete_contact(cur, session.acting_user(), session.now(), contact_id)
        return name

    def deleted(name: str) -> None:
        close_contact_form()
        session.flash(_("Contact {name} deleted.").format(name=fmt.md_escape(name)))

    if not actions.run(SCOPE, work, None, then=deleted):
        state.pop(CONFIRM_KEY, None)     # the refusal shows under the form; ask again next time
