"""The one lead-creation form (SPEC section 3), opened from a contact on the Contacts page,
whether the user came from a contact row or from the Leads page's "New lead" button."""
from __future__ import annotations

import streamlit as st

from leadcore.admin import settings, sources
from leadcore.auth import User
from leadcore.contacts import service as contacts
from leadcore.errors import NotFound, ValidationError
from leadcore.i18n import _
from leadcore.leads import service as leads
from leadcore.leads import vehicles
from leadcore.ui import actions, session
from leadcore.ui import format as fmt
from leadcore.ui.customer_block import customer_block
from leadcore.ui.fields import date_time_inputs, field_error, local_moment

OPEN_KEY = "lead_form_contact"   # session key: the contact whose lead form is open


def open_lead_form(contact_id: int) -> None:
    st.session_state[OPEN_KEY] = contact_id
    actions.forget_errors(_key(contact_id))


def close_lead_form() -> None:
    st.session_state.pop(OPEN_KEY, None)


def _key(contact_id: int) -> str:
    return f"new_lead_{contact_id}"


# Fields the form shows its errors beside; anything else (a refusal, a failure) goes under it.
_FIELDS = ("source", "subject", "note", "resubmission", "editor", "vehicle_year", "contact")


def lead_form() -> None:
    """Render the open lead form, if any; Save goes to the Leads list with the new lead."""
    contact_id = st.session_state.get(OPEN_KEY)
    if contact_id is None:
        return
    cur, user = session.cursor(), session.require_user()
    key = _key(contact_id)
    errors = actions.errors(key)
    with st.container(border=True, key="lead_form"):
        st.subheader(_("New lead"))
        try:
            customer_block(contacts.get_contact(cur, contact_id))
        except NotFound:
            st.error(errors.get("contact") or _("This contact was deleted meanwhile; "
                                                "choose another contact."), icon=":material/error:")
            st.button(_("Cancel"), key=f"{key}_cancel", on_click=close_lead_form)
            return
        # Enter in the subject must not save a lead before its resubmission is set.
        with st.form(key, border=False, enter_to_submit=False):
            active = sources.list_sources(cur)
            names = {s.id: s.name for s in active}
            types = list(leads.LEAD_TYPES)
            default_type = settings.get(cur, "default_lead_type", "new_car")
            left, right = st.columns(2)
            with left:
                st.selectbox(_("Source"), list(names), format_func=names.get, key=f"{key}_source")
                field_error(errors, "source")
            with right:
                st.selectbox(_("Lead type"), types, format_func=fmt.lead_type, key=f"{key}_type",
                             index=types.index(default_type) if default_type in types else 0)
            st.text_input(_("Subject"), key=f"{key}_subject",
                          placeholder=_("e.g. Test drive VW Golf 8 GTI"))
            field_error(errors, "subject")
            st.text_area(_("Note"), key=f"{key}_note", height=100)
            field_error(errors, "note")
            left, right = st.columns(2)
            with left:
                date_time_inputs(f"{key}_resubmission", _("Resubmission date"), _("Resubmission time"))
                st.caption(_("Empty means: due by arrival plus the stage-1 reaction time."))
                field_error(errors, "resubmission")
            with right:
                editors = session.user_names(editors_only=True)
                ids = list(editors)
                st.selectbox(_("Editor"), ids, format_func=editors.get, key=f"{key}_editor",
                             index=ids.index(user.id) if user.id in ids else 0)
                field_error(errors, "editor")
            _vehicle_fields(key, errors)
            field_error(errors, "contact")
            st.form_submit_button(_("Save"), type="primary", on_click=_save, args=(contact_id,))
        actions.outcome(key, _FIELDS)
        st.button(_("Cancel"), key=f"{key}_cancel", on_click=close_lead_form)


def _vehicle_fields(key: str, errors: dict[str, str]) -> None:
    """The vehicle of interest, optional: folded away unless the seller needs it."""
    with st.expander(_("Vehicle of interest"), icon=":material/directions_car:",
                     expanded="vehicle_year" in errors):
        interest, make, model = st.columns([1, 1, 1])
        interest.selectbox(_("Interest"), list(vehicles.INTERESTS), format_func=vehicles.interest_label,
                           index=None, placeholder=_("Not known"), key=f"{key}_vehicle_interest")
        make.text_input(_("Make"), key=f"{key}_vehicle_make", placeholder="Volkswagen")
        model.text_input(_("Model"), key=f"{key}_vehicle_model", placeholder="Golf 8 GTI")
        year, vin = st.columns([1, 2])
        with year:
            st.text_input(_("Year"), key=f"{key}_vehicle_year", placeholder="2021")
            field_error(errors, "vehicle_year")
        vin.text_input(_("VIN"), key=f"{key}_vehicle_vin",
                       help=_("17 characters; an invalid VIN is kept and flagged on the lead."))


def _typed_vehicle(key: str) -> vehicles.Vehicle | None:
    """The vehicle typed into the form, or None when nothing was typed."""
    state = st.session_state
    typed_year = (state.get(f"{key}_vehicle_year") or "").strip()
    year = vehicles.parse_year(typed_year)
    if typed_year and year is None:
        raise ValidationError("vehicle_year", _("Year must be a four-digit year such as 2021."))
    vehicle = vehicles.Vehicle(interest=state.get(f"{key}_vehicle_interest"), year=year,
                               make=state.get(f"{key}_vehicle_make") or "",
                               model=state.get(f"{key}_vehicle_model") or "",
                               vin=state.get(f"{key}_vehicle_vin") or "")
    return None if vehicle.is_empty and not vehicle.interest else vehicle


def _save(contact_id: int) -> None:
    """Form callback: runs before the rerun, so errors and the redirect are known when it renders."""
    user, state, key = session.current_user(), st.session_state, _key(contact_id)
    if user is None:
        return

    def work() -> int:
        return leads.create_lead(session.cursor(), user, session.now(), leads.LeadInput(
            contact_id=contact_id,
            source_id=state.get(f"{key}_source") or -1,
            lead_type=state.get(f"{key}_type") or "",
            subject=state.get(f"{key}_subject") or "",
            note=state.get(f"{key}_note") or "",
            resubmission_at=local_moment(f"{key}_resubmission", session.timezone()),
            editor_id=state.get(f"{key}_editor") or -1,
            vehicle=_typed_vehicle(key),
        ))

    actions.run(key, work, None, then=lambda lead_id: _created(contact_id, user, lead_id))


def _created(contact_id: int, user: User, lead_id: int) -> None:
    """Say where the new lead went and go to the Leads list."""
    state, key = st.session_state, _key(contact_id)
    close_lead_form()
    subject = fmt.md_escape((state.get(f"{key}_subject") or "").strip())
    editor_id = state.get(f"{key}_editor")
    if editor_id == user.id:
        session.flash(_("Lead #{id} “{subject}” created.").format(id=lead_id, subject=subject))
    else:
        # Sellers do not see leads they gave to a colleague: say where it went.
        editor = fmt.md_escape(session.user_names().get(editor_id, ""))
        session.flash(_("Lead #{id} “{subject}” created for {editor}.").format(
            id=lead_id, subject=subject, editor=editor))
    session.redirect("pages/leads.py")
