"""The customer's data repeated read-only, so a lead visibly goes to the right person."""
from __future__ import annotations

import streamlit as st

from leadcore.contacts.service import Contact, format_phone
from leadcore.i18n import _


def customer_block(contact: Contact) -> None:
    with st.container(border=True, key=f"customer_block_{contact.id}"):
        st.caption(_("Customer"))
        # st.text never interprets Markdown or HTML: names and addresses are untrusted text.
        left, right = st.columns(2)
        left.text("\n".join([contact.display_name, *contact.address_lines]))
        reach = [f"✉ {contact.email}" if contact.email else "",
                 f"☎ {format_phone(contact.phone)}" if contact.phone else "",
                 f"📱 {format_phone(contact.mobile)}" if contact.mobile else ""]
        right.text("\n".join(line for line in reach if line) or _("no e-mail or phone"))
