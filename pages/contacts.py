"""Contacts: search, create and edit contacts, see their leads, and start a lead from one."""
import streamlit as st

from leadcore.contacts import kept
from leadcore.contacts import service as contacts
from leadcore.contacts.service import format_phone
from leadcore.i18n import _, ngettext, pgettext
from leadcore.leads import listing as lead_list
from leadcore.leads.listing import LeadFilter
from leadcore.ui import format as fmt
from leadcore.ui import session
from leadcore.ui.contact_form import close_contact_form, contact_form, open_contact_form
from leadcore.ui.lead_form import close_lead_form, lead_form, open_lead_form
from leadcore.ui.pager import current_after, pager_controls

PAGE_SIZE = 20
cur, user, now, tz = session.cursor(), session.require_user(), session.now(), session.timezone()
picking = st.query_params.get("pick") == "1"

def start_lead(contact_id: int) -> None:
    close_contact_form()   # one form at a time
    open_lead_form(contact_id)


def start_contact(contact_id: int | None = None, then_new_lead: bool = False) -> None:
    close_lead_form()
    open_contact_form(contact_id, then_new_lead)


def show_leads_of(contact_id: int) -> None:
    st.session_state["contact_leads_of"] = contact_id


def show_saved(contact: contacts.Contact) -> None:
    """After a save the search finds the contact (this page owns "contact_search")."""
    st.session_state["contact_search"] = contact.last_name or contact.company


title, new_button = st.columns([4, 1], vertical_alignment="bottom")
title.title(_("Contacts"))
if user.can_write:
    new_button.button(_("New contact"), icon=":material/person_add:", key="new_contact", width="stretch",
                      on_click=start_contact, kwargs={"then_new_lead": picking})
if picking:
    st.info(_("Choose the contact for the new lead: use “New lead” in its row, "
              "or create the contact first with “New contact”."), icon=":material/person_search:")
session.show_flash()
contact_form(on_saved=show_saved)
lead_form()


def contact_leads(contact_id: int) -> None:
    """The contact's own leads (open and completed), newest due first, within what the user may see."""
    rows = lead_list.list_leads(cur, user, now, LeadFilter(contact_id=contact_id, statuses=()),
                                page_size=100).rows
    with st.container(border=True, key=f"contact_leads_{contact_id}"):
        head, close = st.columns([5, 1], vertical_alignment="center")
        head.markdown("**" + _("Leads of this contact") + f"** ({len(rows)})")
        close.button(_("Close"), key=f"close_leads_{contact_id}", type="tertiary",
                     on_click=lambda: st.session_state.pop("contact_leads_of", None))
        if rows.empty:
            st.caption(_("No leads yet."))
            return
        for _index, lead in rows.iterrows():
            cols = st.columns([1, 5, 3, 2], vertical_alignment="center")
            cols[0].text(f"#{lead['id']}")
            cols[1].text(lead["subject"])
            cols[2].text(f"{fmt.when(lead['due_at'], tz)} {fmt.traffic_light(lead['traffic_light'])}"
                         if lead["status"] == "open" else fmt.status(lead["status"]))
            if cols[3].button(pgettext("action", "Open"), key=f"open_lead_{lead['id']}", type="tertiary"):
                st.switch_page("pages/leads.py", query_params={"lead": str(lead["id"])})


query = st.text_input(_("Search"), placeholder=_("Name, company, e-mail, phone or city"),
                      key="contact_search")
after = current_after("contacts_pager", query)
page = contacts.search_contacts(cur, query, after=after, page_size=PAGE_SIZE)
total = contacts.count_contacts(cur, query)

if page.rows.empty:
    st.info(_("No contacts match. Create the contact with “New contact”."), icon=":material/person_off:")
duplicates = kept.possible_duplicates(cur, [int(i) for i in page.rows["id"]]) if not page.rows.empty else {}
for contact in contacts.contacts_of(page.rows):
    open_leads = int(page.rows.loc[page.rows["id"] == contact.id, "open_leads"].iloc[0])
    with st.container(border=True, key=f"contact_row_{contact.id}"):
        # Button columns wide enough for their labels at a 1400 px window ("New lead" was clipped).
        cols = st.columns([2.8, 2.8, 1.5, 1.9, 1.7, 1.2], vertical_alignment="center")   # and "Bearbeiten"
        cols[0].markdown(f"**{fmt.md_escape(contact.display_name)}**  \n"
                         f"{fmt.md_escape(' '.join(p for p in (contact.postal_code, contact.city) if p))}")
        cols[1].text("\n".join(p for p in (contact.email, format_phone(contact.phone or contact.mobile)) if p))
        cols[2].caption(ngettext("{n} open lead", "{n} open leads", open_leads).format(n=open_leads))
        if user.can_write:
            cols[3].button(_("New lead"), key=f"new_lead_{contact.id}", icon=":material/add_circle:",
                           type="primary" if picking else "secondary", help=_("New lead for this contact"),
                           on_click=start_lead, args=(contact.id,))
            cols[4].button(_("Edit"), key=f"edit_contact_{contact.id}", icon=":material/edit:",
                           type="tertiary", on_click=start_contact, args=(contact.id,))
        cols[5].button(_("Leads"), key=f"leads_of_{contact.id}", icon=":material/list:", type="tertiary",
                       on_click=show_leads_of, args=(contact.id,))
        if contact.id in duplicates:
            duplicate = duplicates[contact.id]
            st.caption(_("⚠ Possible duplicate of {name} (#{id}): taken in from a feed with the same e-mail, "
                         "phone or name and postal code; check before merging.").format(
                name=fmt.md_escape(duplicate.of_name), id=duplicate.of_id))
    if st.session_state.get("contact_leads_of") == contact.id:
        contact_leads(contact.id)
if total:
    pager_controls("contacts_pager", page, total, PAGE_SIZE)
