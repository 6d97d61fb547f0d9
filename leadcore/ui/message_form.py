"""The lead detail's "Write message" tab: an e-mail to the customer in the source's template,
with placeholders and a preview. Sending it works the lead (leadcore.lead_messages)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import streamlit as st

from leadcore.errors import LeadcoreError
from leadcore.i18n import _
from leadcore.leads import messages as lead_messages
from leadcore.leads.detail import LeadDetail
from leadcore.mail.html import text_to_html
from leadcore.ui import actions, session
from leadcore.ui import format as fmt
from leadcore.ui.fields import date_time_inputs, field_error, local_moment
from leadcore.ui.placeholder_picker import placeholder_picker

_SHOWN = ("subject", "body", "resubmission", "recipient")


def message_tab(lead: LeadDetail, tz: ZoneInfo) -> None:
    key = f"lead{lead.id}_message"
    email = lead.contact.email
    if not email:
        st.info(_("This customer has no e-mail address. Add one on the Contacts page to write a message."),
                icon=":material/unsubscribe:")
        return
    errors = actions.errors(key)
    actions.seed({
        f"{key}_subject": _("Your enquiry: {subject}").format(subject=lead.subject),
        f"{key}_body": _("Dear {{ contact.salutation }} {{ contact.last_name }},") + "\n\n",
    })
    st.text(_("To: {name} <{email}>").format(name=lead.contact.display_name, email=email))
    field_error(errors, "recipient")
    st.text_input(_("Subject"), key=f"{key}_subject")
    field_error(errors, "subject")
    st.text_area(_("Message"), key=f"{key}_body", height=200,
                 help=_("Plain text; a blank line starts a new paragraph. The template adds the header "
                        "graphic, your contact details and the legal footer."))
    field_error(errors, "body")
    placeholder_picker(f"{key}_picker", {f"{key}_body": _("Message")})
    date_time_inputs(f"{key}_resub", _("Resubmission date"), _("Resubmission time"))
    st.caption(_("Leave both empty: the lead is due again one stage-1 period (working time) after the message."))
    field_error(errors, "resubmission")
    with st.expander(_("Preview")):
        _preview(lead, key)
    st.button(_("Send message"), key=f"{key}_send", type="primary", icon=":material/send:",
              on_click=_send, args=(lead.id, key, email, tz))
    actions.outcome(key, _SHOWN)


def _body_html(key: str) -> str:
    return text_to_html(st.session_state.get(f"{key}_body") or "")


def _preview(lead: LeadDetail, key: str) -> None:
    try:
        mail = lead_messages.preview_message(session.cursor(), session.require_user(), session.now(), lead.id,
                                             st.session_state.get(f"{key}_subject") or "", _body_html(key))
    except LeadcoreError as error:
        st.warning(error.message, icon=":material/warning:")
        return
    st.text(_("Subject: {subject}").format(subject=mail.subject))
    # Sanitised blocks (sandbox + nh3) in leadcore's own frame: safe for st.html.
    st.html(mail.preview_html)


def _send(lead_id: int, key: str, email: str, tz: ZoneInfo) -> None:
    def work() -> int:
        return lead_messages.queue_message(
            session.cursor(), session.require_user(), session.now(), lead_id,
            st.session_state.get(f"{key}_subject") or "", _body_html(key), local_moment(f"{key}_resub", tz))

    actions.run(key, work, _("Message to {email} queued; it goes out with the next outbox run.").format(
                    email=fmt.md_escape(email)),
                forget=[f"{key}_subject", f"{key}_body", f"{key}_resub_date", f"{key}_resub_time"])
