"""Leads: the seller's work list (search, filters, paging), the lead detail, and "New lead".

The list and the detail are fragments: a filter, a pager click or a form in the detail reruns only
that part, not app.py's navigation and the page around it.
"""
import streamlit as st

from leadcore.i18n import _
from leadcore.leads import changes
from leadcore.leads import listing as lead_list
from leadcore.leads import service as leads
from leadcore.leads.listing import LeadFilter
from leadcore.rules import duetime
from leadcore.ui import actions, session
from leadcore.ui import format as fmt
from leadcore.ui.bulk_actions import bulk_actions
from leadcore.ui.lead_detail import lead_detail
from leadcore.ui.pager import current_after, kept_total, pager_controls

PAGE_SIZE = 50
user = session.require_user()


def close_lead() -> None:
    st.query_params.pop("lead", None)


def fresh_table() -> None:
    """A new table key: the old selection is dropped (this page owns "lead_table_view")."""
    st.session_state["lead_table_view"] = st.session_state.get("lead_table_view", 0) + 1


@st.fragment
def lead_view(lead_id: int) -> None:
    # "Back" (or a lead handed to someone out of sight) closed it during this fragment's rerun:
    # the whole page shows the list again.
    if st.query_params.get("lead") != str(lead_id):
        st.rerun()
    # A fragment's error would otherwise show Streamlit's trace (app.py's guard is not around a
    # fragment's own rerun, and Streamlit catches the error inside the fragment on a full run).
    with actions.page_errors():
        session.show_flash()
        lead_detail(lead_id, on_back=close_lead)


@st.fragment
def work_list() -> None:
    with actions.page_errors():      # as in lead_view: a sentence, never a trace
        _work_list()


def _work_list() -> None:
    # Read here, not at the top of the page: a fragment's rerun does not run the page again.
    cur, user, now, tz = session.cursor(), session.require_user(), session.now(), session.timezone()
    session.show_flash()
    lead_filter, bulk = _filters(user)
    after = current_after("leads_pager", lead_filter)
    page = lead_list.list_leads(cur, user, now, lead_filter, after=after, page_size=PAGE_SIZE)
    # Counted again only when the filter, who looks or the data changed (a new lead counts).
    total = kept_total("leads_pager", (user.id, lead_filter, session.reference().version,
                                       changes.leads_version(cur)),
                       lambda: lead_list.count_leads(cur, user, now, lead_filter))
    if page.rows.empty:
        st.info(_("No leads match. Change the search or the filters, or create a new lead."),
                icon=":material/inbox:")
    else:
        _table(page, tz, bulk)
    if total:
        pager_controls("leads_pager", page, total, PAGE_SIZE)


def _filters(user) -> tuple[LeadFilter, bool]:
    """The search, "My leads" and the filters as a LeadFilter; and whether several are picked."""
    search, mine_toggle, bulk_toggle = st.columns([3.6, 1, 1.4], vertical_alignment="bottom")   # "Mehrere auswählen"
    text = search.text_input(_("Search"), placeholder=_("Name, e-mail, phone or subject"), key="lead_search")
    mine = mine_toggle.toggle(_("My leads"), value=user.role == "seller", key="lead_mine")
    bulk = user.can_write and bulk_toggle.toggle(_("Select several"), key="lead_bulk_mode")

    with st.expander(_("Filters"), icon=":material/filter_list:"):
        row1 = st.columns(3)
        source_names = session.source_names()
        chosen_sources = row1[0].multiselect(_("Source"), list(source_names), format_func=source_names.get,
                                             key="lead_filter_source", placeholder=_("All sources"))
        editor_names = session.user_names()
        chosen_editors = row1[1].multiselect(_("Editor"), list(editor_names), format_func=editor_names.get,
                                             key="lead_filter_editor", placeholder=_("All editors"))
        chosen_statuses = row1[2].multiselect(_("Status"), ["open", "completed"], default=["open"],
                                              format_func=fmt.status, key="lead_filter_status",
                                              placeholder=_("Open and completed"))
        row2 = st.columns(3)
        chosen_lights = row2[0].multiselect(_("Traffic light"), [duetime.ON_TIME, duetime.DUE_SOON, duetime.OVERDUE],
                                            format_func=fmt.traffic_light, key="lead_filter_light",
                                            placeholder=_("All traffic lights"))
        chosen_types = row2[1].multiselect(_("Lead type"), list(leads.LEAD_TYPES), format_func=fmt.lead_type,
                                           key="lead_filter_type", placeholder=_("All lead types"))
        created = row2[2].date_input(_("Created between"), value=(), format="DD.MM.YYYY",
                                     key="lead_filter_created")
    lead_filter = LeadFilter(
        text=text, mine=mine, statuses=tuple(chosen_statuses), source_ids=tuple(chosen_sources),
        editor_ids=tuple(chosen_editors), traffic_lights=tuple(chosen_lights), lead_types=tuple(chosen_types),
        created_from=created[0] if len(created) > 0 else None,
        created_to=created[1] if len(created) > 1 else None,
    )
    return lead_filter, bulk


def _table(page, tz, bulk: bool) -> None:
    rows = page.rows
    # Whole columns at once: a label per distinct value, the times formatted by pandas.
    shown = rows.assign(
        lead_type=fmt.each(rows["lead_type"], fmt.lead_type),
        last_activity_at=fmt.when_column(rows["last_activity_at"], tz),
        due_at=fmt.when_column(rows["due_at"], tz),
        traffic_light=fmt.each(rows["traffic_light"], fmt.traffic_light),
        escalation_level=fmt.each(rows["escalation_level"], fmt.escalation),
        status=fmt.each(rows["status"], fmt.status),
        editor=rows["editor_id"].map(session.user_names()),
    )
    # A fresh key per page view: a selection only opens a lead once, never again on "Back".
    table_key = f"lead_table_{st.session_state.setdefault('lead_table_view', 0)}"
    event = st.dataframe(
        shown, hide_index=True, key=f"{table_key}_bulk" if bulk else table_key, on_select="rerun",
        selection_mode="multi-row" if bulk else "single-row",
        column_order=["customer", "subject", "lead_type", "source", "editor", "last_activity_at",
                      "due_at", "traffic_light", "escalation_level", "status"],
        column_config={
            "customer": st.column_config.TextColumn(_("Customer"), width=120),
            "subject": st.column_config.TextColumn(_("Subject"), width=200),
            "lead_type": st.column_config.TextColumn(_("Lead type"), width=75),
            "source": st.column_config.TextColumn(_("Source"), width=90),
            "editor": st.column_config.TextColumn(_("Editor"), width=100),
            "last_activity_at": st.column_config.TextColumn(_("Last activity"), width=115),
            "due_at": st.column_config.TextColumn(_("Due"), width=115),
            "traffic_light": st.column_config.TextColumn(_("Traffic light"), width=90),
            "escalation_level": st.column_config.TextColumn(_("Escalation"), width=85),
            "status": st.column_config.TextColumn(_("Status"), width=75),
        },
    )
    selected = event.selection.rows if event else []
    if bulk:
        bulk_actions([int(rows.iloc[i]["id"]) for i in selected], on_done=fresh_table)
    elif selected:
        fresh_table()
        st.query_params["lead"] = str(int(rows.iloc[selected[0]]["id"]))
        st.rerun()                     # the whole page: it shows the lead instead of the list
    else:
        st.caption(_("Click a row to open the lead."))


open_lead = st.query_params.get("lead")
if open_lead and open_lead.isdigit():
    lead_view(int(open_lead))
    st.stop()

title, new_button = st.columns([4, 1], vertical_alignment="bottom")
title.title(_("Leads"))
if user.can_write and new_button.button(_("New lead"), type="primary", icon=":material/add:",
                                        key="new_lead", width="stretch"):
    # A lead always starts from its contact: pick (or create) the contact first.
    st.switch_page("pages/contacts.py", query_params={"pick": "1"})
work_list()
