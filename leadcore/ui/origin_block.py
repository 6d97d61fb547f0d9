"""Where an intake lead came from, on the lead detail: the provider (name, service, web
address, e-mail, phone), the dealer location it was sent to, the customer's timeframe, and a
request date that could not be read (arrival is then the intake time)."""
from __future__ import annotations

import streamlit as st

from leadcore.i18n import _
from leadcore.leads import origins
from leadcore.ui import session


def origin_block(lead_id: int) -> None:
    origin = origins.get_origin(session.cursor(), session.require_user(), session.now(), lead_id)
    if origin is None:
        return
    with st.container(border=True, key=f"origin_block_{lead_id}"):
        st.caption(_("Sent by"))
        provider = " · ".join(p for p in (origin.provider_name, origin.provider_service) if p)
        lines = [provider, origin.provider_url, origin.provider_email, origin.provider_phone,
                 _("To: {vendor}").format(vendor=origin.vendor_name) if origin.vendor_name else "",
                 _("Timeframe: {text}").format(text=origin.timeframe) if origin.timeframe else ""]
        st.text("\n".join(line for line in lines if line))      # untrusted text: never Markdown
        if origin.arrival_unreadable:
            st.warning(_("The request date “{text}” could not be read; the arrival is the time the lead "
                         "was taken in.").format(text=origin.request_date_text), icon=":material/event_busy:")
