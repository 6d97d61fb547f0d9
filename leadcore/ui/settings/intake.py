"""The Intake settings tab: which sender (address or domain) stands for which source, the default
source of unknown senders, and the folder the server polls for lead files."""
from __future__ import annotations

import streamlit as st

from leadcore.admin import sources
from leadcore.i18n import _
from leadcore.intake import routing
from leadcore.ui import actions, session
from leadcore.ui.fields import field_error

_SETUP, _ADD, _REMOVE = "intake_setup", "intake_sender_add", "intake_sender_remove"


def intake_tab() -> None:
    cur = session.cursor()
    active = {s.id: s.name for s in sources.list_sources(cur)}
    _setup_form(cur, active)
    st.markdown("**" + _("Marketplace senders") + "**")
    st.caption(_("Plain e-mails without ADF get the source of their sender: a whole address or a "
                 "domain (@mobile.de also covers mails from its subdomains). Unknown senders go to "
                 "the default source and are flagged in the intake log."))
    mapped = routing.sender_sources(cur)
    if mapped:
        st.dataframe([{"pattern": m.pattern, "source": m.source} for m in mapped], hide_index=True,
                     key="intake_senders_table",
                     column_config={"pattern": st.column_config.TextColumn(_("Sender")),
                                    "source": st.column_config.TextColumn(_("Source"))})
    else:
        st.info(_("No senders mapped yet."), icon=":material/alternate_email:")
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
        st.markdown("**" + _("Map a sender") + "**")
        st.text_input(_("Sender address or domain"), key=f"{_ADD}_pattern", placeholder="@mobile.de")
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
        state.get(f"{_ADD}_source")),
        lambda added: _("Mails from {pattern} now become leads of {source}.").format(
            pattern=added.pattern, source=added.source),
        forget=(f"{_ADD}_pattern", f"{_ADD}_source"))


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
