"""The customer's data repeated read-only, so a lead visibly goes to the right person."""
from __future__ import annotations

import streamlit as st

from leadcore.contacts import kept
from leadcore.contacts.service import Contact, format_phone
from leadcore.i18n import N_, _
from leadcore.ui import format as fmt
from leadcore.ui import session

_KINDS = {"voice": N_("phone"), "cellphone": N_("mobile"), "fax": N_("fax"), "pager": N_("pager"),
          "home": N_("home"), "work": N_("work"), "mobile": N_("mobile")}
_ICONS = {"cellphone": "📱", "mobile": "📱", "fax": "📠"}


def _phone_line(phone: kept.KeptPhone) -> str:
    kind = _(_KINDS[phone.kind]) if phone.kind in _KINDS else phone.kind
    about = ", ".join(p for p in (kind, phone.time) if p)
    text = format_phone(phone.number) if phone.number else _("{raw} (as sent, to check)").format(raw=phone.raw)
    return f"{_ICONS.get(phone.kind, '☎')} {text}" + (f" ({about})" if about else "")


def customer_block(contact: Contact) -> None:
    cur = session.cursor()
    with st.container(border=True, key=f"customer_block_{contact.id}"):
        st.caption(_("Customer"))
        # st.text never interprets Markdown or HTML: names and addresses are untrusted text.
        left, right = st.columns(2)
        left.text("\n".join([contact.display_name, *contact.address_lines]))
        phones = kept.phones_of(cur, contact.id)
        reach = [f"✉ {contact.email}" if contact.email else ""]
        if phones:    # every number the feed sent, with its type and time
            reach += [_phone_line(p) for p in phones]
        else:
            reach += [f"☎ {format_phone(contact.phone)}" if contact.phone else "",
                      f"📱 {format_phone(contact.mobile)}" if contact.mobile else ""]
        right.text("\n".join(line for line in reach if line) or _("no e-mail or phone"))
        if any(p.number is None for p in phones):
            st.caption(_("A number could not be read in a known country; it is kept as sent. Please check it."))
        duplicate = kept.possible_duplicates(cur, [contact.id]).get(contact.id)
        if duplicate is not None:
            st.warning(_("Possible duplicate of {name} (#{id}): the same e-mail, phone or name and postal code, "
                         "but maybe another person. Check before merging.").format(
                name=fmt.md_escape(duplicate.of_name), id=duplicate.of_id), icon=":material/group:")
