"""The Intake settings tab: which ADF provider or sender (address or domain) stands for which
source (one table), the sources intake created on first sight for a manager to confirm, the
default source of unknown senders, and the folder the server polls for lead files."""
from __future__ import annotations

import streamlit as st

from leadcore.admin import sources
from leadcore.i18n import N_, _
from leadcore.intake import routing
from leadcore.ui import actions, session
from leadcore.ui import format as fmt
from leadcore.ui.fields import field_error

_SETUP, _ADD, _REMOVE = "intake_setup", "intake_sender_add", "intake_sender_remove"
_CONFIRM = "intake_confirm"
_KINDS = {"sender": N_("Sender"), "provider": N_("Provider")}


def intake_tab() -> None:
    cur = session.cursor()
    active = {s.id: s.name for s in sources.list_sources(cur)}
    _setup_form(cur, active)
    st.markdown("**" + _("Providers and senders") + "**")
    st.caption(_("The provider decides the source: an ADF file's provider name is looked up here; a "
                 "provider seen for the first time gets a new inactive source of its name, to be "
                 "confirmed below. Plain e-mails without ADF get the source of their sender: a whole "
                 "address or a domain (@mobile.de also covers its subdomains). Unknown senders go to "
                 "the default source and are flagged in the intake log."))
    mapped = routing.sender_sources(cur)
    if mapped:
        st.dataframe([{"kind": _(_KINDS.get(m.kind, m.kind)), "pattern": m.pattern, "source": m.source,
                       "active": m.active} for m in mapped], hide_index=True,
                     key="intake_senders_table",
                     column_config={"kind": st.column_config.TextColumn(_("Maps")),
                                    "pattern": st.column_config.TextColumn(_("Provider or sender")),
                                    "source": st.column_config.TextColumn(_("Source")),
                                    "active": st.column_config.CheckboxColumn(_("Source active"))})
    else:
        st.info(_("No senders mapped yet."), icon=":material/alternate_email:")
    _confirm_form({m.source_id: m.source for m in mapped if not m.active})
    left, right = st.columns(2)
    with left:
        _add_form(active)
    with right:
        _remove_form([m.pattern for m in mapped])


def _setup_form(cur, active: dict[int, str]) -> None:
    current = routing.intake_settings(cur)
    actions.seed({f"{_SETUP}_default": current.default_source_id if current.default_source_id in active else None,
                  f"{_SETUP}_folder": current.folder})
    errors = actions.errors(_SETUP)
    with st.form("intake_setup_form"):
        st.selectbox(_("Default source for unknown senders"), list(active), format_func=active.get,
                     key=f"{_SETUP}_default", index=None, placeholder=_("Choose a source"))
        field_error(errors, "default_source")
        st.text_input(_("Intake folder on the server"), key=f"{_SETUP}_folder",
                      placeholder="/srv/leadcore/inbox",
                      help=_("Checked every minute: files found there are taken in and moved to done/ "
                             "or rejected/ beside them. Leave empty to poll no folder."))
        field_error(errors, "folder")
        st.form_submit_button(_("Save intake settings"), type="primary", on_click=_save_setup)
    actions.outcome(_SETUP, ("default_source", "folder"))


def _save_setup() -> None:
    state = st.session_state
    actions.run(_SETUP, lambda: routing.update_intake_settings(
        session.cursor(), session.require_user(), session.now(), state.get(f"{_SETUP}_default"),
        state.get(f"{_SETUP}_folder") or ""), _("Intake settings saved."))


def _add_form(active: dict[int, str]) -> None:
    errors = actions.errors(_ADD)
    with st.form("intake_sender_add_form"):
        st.markdown("**" + _("Map a provider or sender") + "**")
        st.radio(_("Maps"), list(_KINDS), format_func=lambda k: _(_KINDS[k]), key=f"{_ADD}_kind",
                 horizontal=True)
        st.text_input(_("Provider name, sender address or domain"), key=f"{_ADD}_pattern", placeholder="@mobile.de")
        field_error(errors, "pattern")
        st.selectbox(_("Source"), list(active), format_func=active.get, key=f"{_ADD}_source", index=None,
                     placeholder=_("Choose a source"))
        field_error(errors, "source")
        st.form_submit_button(_("Add sender"), on_click=_add)
    actions.outcome(_ADD, ("pattern", "source"))


def _add() -> None:
    state = st.session_state
    actions.run(_ADD, lambda: routing.add_sender_source(
        session.cursor(), session.require_user(), session.now(), state.get(f"{_ADD}_pattern") or "",
        state.get(f"{_ADD}_source"), state.get(f"{_ADD}_kind") or "sender"),
        lambda added: (_("Mails from {pattern} now become leads of {source}.") if added.kind == "sender" else
                       _("Files of the provider {pattern} now become leads of {source}.")).format(
            pattern=fmt.md_escape(added.pattern), source=fmt.md_escape(added.source)),
        forget=(f"{_ADD}_pattern", f"{_ADD}_source"))


def _confirm_form(unconfirmed: dict[int, str]) -> None:
    """Sources intake created for a provider seen the first time: a manager confirms them."""
    if not unconfirmed:
        actions.outcome(_CONFIRM)
        return
    st.warning(_("New providers sent leads: their sources are inactive until you confirm them."),
               icon=":material/new_releases:")
    with st.form("intake_confirm_form"):
        st.selectbox(_("New source"), list(unconfirmed), format_func=unconfirmed.get, key=f"{_CONFIRM}_source",
                     index=None, placeholder=_("Choose a source"))
        st.form_submit_button(_("Confirm source"), on_click=_confirm, args=(unconfirmed,))
    actions.outcome(_CONFIRM)


def _confirm(unconfirmed: dict[int, str]) -> None:
    source_id = st.session_state.get(f"{_CONFIRM}_source")
    if source_id is None:
        return
    actions.run(_CONFIRM, lambda: routing.confirm_source(
        session.cursor(), session.require_user(), session.now(), source_id),
        _("{source} is confirmed and active.").format(source=unconfirmed.get(source_id, "")),
        forget=(f"{_CONFIRM}_source",))


def _remove_form(patterns: list[str]) -> None:
    if not patterns:
        actions.outcome(_REMOVE)      # the notice of having removed the last one
        return
    with st.form("intake_sender_remove_form"):
        st.markdown("**" + _("Remove a sender") + "**")
        st.selectbox(_("Sender"), patterns, key=f"{_REMOVE}_pattern", index=None,
                     placeholder=_("Choose a sender"))
        st.form_submit_button(_("Remove sender"), on_click=_remove)
    actions.outcome(_REMOVE)


def _remove() -> None:
    pattern = st.session_state.get(f"{_REMOVE}_pattern")
    if not pattern:
        return
    actions.run(_REMOVE, lambda: routing.remove_sender_source(
        session.cursor(), session.require_user(), session.now(), pattern),
        _("{pattern} removed: its mails go to the default source now.").format(pattern=pattern),
        forget=(f"{_REMOVE}_pattern",))
