"""Create or edit a contact, with a warning before a likely duplicate is stored."""
from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from leadcore.contacts import service as contacts
from leadcore.contacts.service import ContactInput, format_phone
from leadcore.errors import NotFound, ValidationErrors
from leadcore.i18n import _
from leadcore.ui import format as fmt
from leadcore.ui import session
from leadcore.ui.fields import field_error
from leadcore.ui.lead_form import open_lead_form

OPEN_KEY = "contact_form_target"   # "new" or the contact id; not "contact_form", the st.form key
_LAYOUT = [("salutation", "first_name", "last_name"), ("company",), ("email", "phone", "mobile"),
           ("street",), ("postal_code", "city", "country")]


def open_contact_form(contact_id: int | None = None, then_new_lead: bool = False) -> None:
    st.session_state[OPEN_KEY] = contact_id if contact_id is not None else "new"
    st.session_state["contact_form_then_lead"] = then_new_lead
    for name in ("contact_form_errors", "contact_form_similar"):
        st.session_state.pop(name, None)
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
    st.session_state.pop(OPEN_KEY, None)


def contact_form() -> None:
    target = st.session_state.get(OPEN_KEY)
    if target is None:
        return
    errors: dict[str, str] = st.session_state.get("contact_form_errors", {})
    similar: list[contacts.Contact] = st.session_state.get("contact_form_similar", [])
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
            st.form_submit_button(_("Save contact"), type="primary", on_click=_save)
        st.button(_("Cancel"), key="contact_form_cancel", on_click=close_contact_form)


def _save() -> None:
    state, cur, now = st.session_state, session.cursor(), session.now()
    target = state.get(OPEN_KEY)
    data = ContactInput(**{name: state.get(f"contact_{name}") or "" for name in contacts.LABELS})
    try:
        clean = contacts.validate(data)
    except ValidationErrors as error:
        state["contact_form_errors"] = error.by_field()
        return
    state.pop("contact_form_errors", None)
    exclude = None if target == "new" else target
    similar = contacts.similar_contacts(cur, clean, exclude_id=exclude)
    if similar and not state.get("contact_confirm_duplicate"):
        state["contact_form_similar"] = similar
        return
    state.pop("contact_form_similar", None)
    if target == "new":
        contact = contacts.create_contact(cur, session.require_user(), now, clean)
        session.flash(_("Contact {name} created.").format(name=fmt.md_escape(contact.display_name)))
    else:
        contact = contacts.update_contact(cur, session.require_user(), now, target, clean)
        session.flash(_("Contact {name} saved.").format(name=fmt.md_escape(contact.display_name)))
    close_contact_form()
    state["contact_search"] = contact.last_name or contact.company
    if state.pop("contact_form_then_lead", False):
        open_lead_form(contact.id)
