"""The lead detail: customer, facts, due and traffic light, the actions and the timeline."""
from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

import streamlit as st

from leadcore.admin import reasons
from leadcore.errors import LeadcoreError
from leadcore.i18n import _
from leadcore.leads import detail as lead_model
from leadcore.leads import service as leads
from leadcore.leads import timeline as lead_timeline
from leadcore.leads import visibility
from leadcore.leads.detail import LeadDetail
from leadcore.ui import actions, session
from leadcore.ui import format as fmt
from leadcore.ui.customer_block import customer_block
from leadcore.ui.fields import date_time_inputs, field_error, local_moment
from leadcore.ui.message_form import message_tab
from leadcore.ui.origin_block import origin_block
from leadcore.ui.vehicle_block import vehicle_block


def _scope(lead_id: int, action: str = "") -> str:
    return f"lead{lead_id}:{action}"


def _act(lead_id: int, action: str, work: Callable[[], object], done: Callable[[], str],
         on_back: Callable[[], None]) -> None:
    """Callback body shared by every action: run the service through the one error path, then
    empty the lead's inputs and flash `done`; leave the detail when the lead is out of sight."""
    notice = done()              # read now: the inputs it may name are emptied on success

    def succeeded(_result: object) -> None:
        session.flash(notice)
        user = session.current_user()
        if user is not None and not visibility.check_lead(session.cursor(), user, lead_id, session.now()):
            on_back()            # handed to someone the user cannot follow: back to the list

    inputs = [k for k in st.session_state if str(k).startswith(f"lead{lead_id}_")]
    if not actions.run(_scope(lead_id, action), work, None, forget=inputs, then=succeeded):
        errors = actions.errors(_scope(lead_id, action))
        if "status" in errors:
            # "completed meanwhile" / "open already" concern the lead, whose form may be gone now.
            errors["general"] = errors.pop("status")


def lead_detail(lead_id: int, on_back: Callable[[], None]) -> None:
    cur, user, now, tz = session.cursor(), session.require_user(), session.now(), session.timezone()
    try:
        lead = lead_model.get_lead(cur, user, now, lead_id)
    except LeadcoreError as error:
        st.error(error.message, icon=":material/block:")
        st.button(_("Back to leads"), icon=":material/arrow_back:", on_click=on_back)
        return
    st.button(_("Back to leads"), icon=":material/arrow_back:", on_click=on_back, type="tertiary")
    st.subheader(f"#{lead.id} · {fmt.md_escape(lead.subject)}")
    left, right = st.columns([1, 1])
    with left:
        customer_block(lead.contact)
        vehicle_block(lead.id)
        origin_block(lead.id)
        if lead.note:
            with st.container(border=True):
                st.caption(_("Note"))
                st.text(lead.note)
    with right:
        _facts(lead, tz)
    if user.can_write:
        _actions(lead, tz, on_back)
    st.markdown("#### " + _("Timeline"))
    events = lead_timeline.timeline(cur, user, lead_id, now)
    events["happened_at"] = [fmt.when(t, tz) for t in events["happened_at"]]
    events["kind"] = events["kind"].map(fmt.event)
    st.dataframe(events, hide_index=True, key=f"timeline_{lead_id}", column_config={
        "happened_at": st.column_config.TextColumn(_("When")),
        "who": st.column_config.TextColumn(_("Who")),
        "kind": st.column_config.TextColumn(_("What")),
        "detail": st.column_config.TextColumn(_("Detail"), width="large"),
    })


def _facts(lead: LeadDetail, tz) -> None:
    with st.container(border=True, key="lead_facts"):
        if lead.status == "open":
            st.markdown("**" + _("Due") + f":** {fmt.when(lead.times.due_at, tz)} · "
                        f"{fmt.traffic_light(lead.traffic_light)}")
            st.markdown("**" + _("Escalation level") + f":** {fmt.escalation(lead.escalation_level)}")
        else:
            st.markdown("**" + _("Completed") + f":** {fmt.when(lead.completed_at, tz)} · "
                        f"{fmt.md_escape(lead.completion_reason or '')}")
        rows = [
            (_("Source"), lead.source),
            (_("Lead type"), fmt.lead_type(lead.lead_type)),
            (_("Editor"), session.user_names().get(lead.editor_id, lead.editor)),
            (_("Status"), fmt.status(lead.status)),
            (_("Arrived"), fmt.when(lead.arrived_at, tz)),
            (_("Resubmission"), fmt.when(lead.resubmission_at, tz) or _("none (due by arrival + stage 1)")),
            (_("First response"), fmt.when(lead.first_response_at, tz) or "–"),
        ]
        # One Markdown block with line breaks: compact, like a record card.
        st.markdown("  \n".join(f"**{label}:** {fmt.md_escape(value)}" for label, value in rows))


def _actions(lead: LeadDetail, tz: ZoneInfo, on_back: Callable[[], None]) -> None:
    general = actions.errors_under(_scope(lead.id)).get("general")
    if general:
        st.error(general, icon=":material/error:")
    if lead.status != "open":
        _reopen_form(lead, tz, on_back)
        return
    note_tab, message, resubmission_tab, editor_tab, complete_tab = st.tabs(
        [_("Add note"), _("Write message"), _("Set resubmission"), _("Change editor"), _("Complete")])
    with note_tab:
        _note_form(lead, tz, on_back)
    with message:
        message_tab(lead, tz)
    with resubmission_tab:
        _resubmission_form(lead, tz, on_back)
    with editor_tab:
        _editor_form(lead, on_back)
    with complete_tab:
        _complete_form(lead, on_back)


def _reopen_form(lead: LeadDetail, tz: ZoneInfo, on_back: Callable[[], None]) -> None:
    key, errors = f"lead{lead.id}_", actions.errors(_scope(lead.id, "reopen"))

    def reopen() -> None:
        leads.reopen(session.cursor(), session.acting_user(), session.now(), lead.id,
                     local_moment(f"{key}reopen", tz))

    with st.form(f"{key}reopen_form"):
        st.markdown("**" + _("Reopen") + "**")
        date_time_inputs(f"{key}reopen", _("Resubmission date"), _("Resubmission time"))
        field_error(errors, "resubmission")
        st.form_submit_button(_("Reopen"), on_click=_act,
                              args=(lead.id, "reopen", reopen, lambda: _("Lead reopened."), on_back))


def _note_form(lead: LeadDetail, tz: ZoneInfo, on_back: Callable[[], None]) -> None:
    key, errors = f"lead{lead.id}_", actions.errors(_scope(lead.id, "note"))

    def add_note() -> None:
        leads.add_note(session.cursor(), session.acting_user(), session.now(), lead.id,
                       st.session_state.get(f"{key}note_text") or "", local_moment(f"{key}note", tz))

    with st.form(f"{key}note_form", border=False):
        st.text_area(_("Note"), key=f"{key}note_text", height=100)
        field_error(errors, "note")
        date_time_inputs(f"{key}note", _("Resubmission date"), _("Resubmission time"))
        field_error(errors, "resubmission")
        st.form_submit_button(_("Add note"), type="primary", on_click=_act,
                              args=(lead.id, "note", add_note, lambda: _("Note added."), on_back))


def _resubmission_form(lead: LeadDetail, tz: ZoneInfo, on_back: Callable[[], None]) -> None:
    key, errors = f"lead{lead.id}_", actions.errors(_scope(lead.id, "resubmission"))

    def set_resubmission() -> None:
        leads.set_resubmission(session.cursor(), session.acting_user(), session.now(), lead.id,
                               local_moment(f"{key}resub", tz))

    with st.form(f"{key}resubmission_form", border=False):
        date_time_inputs(f"{key}resub", _("Resubmission date"), _("Resubmission time"))
        st.caption(_("Leave both empty to clear the resubmission."))
        field_error(errors, "resubmission")
        st.form_submit_button(_("Set resubmission"), on_click=_act, args=(
            lead.id, "resubmission", set_resubmission, lambda: _("Resubmission set."), on_back))


def _editor_form(lead: LeadDetail, on_back: Callable[[], None]) -> None:
    key, errors = f"lead{lead.id}_", actions.errors(_scope(lead.id, "editor"))
    others = {i: name for i, name in session.user_names(editors_only=True).items() if i != lead.editor_id}

    def change_editor() -> None:
        leads.change_editor(session.cursor(), session.acting_user(), session.now(), lead.id,
                            st.session_state.get(f"{key}editor") or -1)

    def changed() -> str:
        return _("Editor changed: the lead is with {name} now.").format(
            name=fmt.md_escape(others.get(st.session_state.get(f"{key}editor"), "")))

    with st.form(f"{key}editor_form", border=False):
        st.selectbox(_("New editor"), list(others), format_func=others.get, key=f"{key}editor",
                     index=None, placeholder=_("Choose a user"))
        field_error(errors, "editor")
        st.form_submit_button(_("Change editor"), on_click=_act,
                              args=(lead.id, "editor", change_editor, changed, on_back))


def _complete_form(lead: LeadDetail, on_back: Callable[[], None]) -> None:
    key, errors = f"lead{lead.id}_", actions.errors(_scope(lead.id, "complete"))
    choices = {r.id: reasons.shown_label(r.label) for r in reasons.list_reasons(session.cursor())}

    def complete() -> None:
        leads.complete(session.cursor(), session.acting_user(), session.now(), lead.id,
                       st.session_state.get(f"{key}reason"), st.session_state.get(f"{key}comment") or "")

    with st.form(f"{key}complete_form", border=False):
        st.selectbox(_("Completion reason"), list(choices), format_func=choices.get,
                     key=f"{key}reason", index=None, placeholder=_("Choose a reason"))
        field_error(errors, "reason")
        st.text_input(_("Comment"), key=f"{key}comment")
        field_error(errors, "note")
        st.form_submit_button(_("Complete lead"), type="primary", on_click=_act,
                              args=(lead.id, "complete", complete, lambda: _("Lead completed."), on_back))
