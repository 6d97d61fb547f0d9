"""One user's absences: the current and coming ones with a Remove button, and the form to add
one with a deputy. Shown on "My absences" (own) and in the Users settings (anyone's)."""
from __future__ import annotations

import streamlit as st

from leadcore import auth
from leadcore.admin import absences, settings, users
from leadcore.i18n import _
from leadcore.ui import actions, session
from leadcore.ui.fields import field_error

_FIELDS = ("starts_on", "ends_on", "deputy", "note")


def absences_panel(user_id: int, key: str) -> None:
    """`key` keeps the widgets of several panels apart (one per page or tab)."""
    cur, now = session.cursor(), session.now()
    style = settings.basic_settings(cur).user_name_display
    deputies = {u.id: auth.display_name(u, style) for u in users.possible_editors(cur) if u.id != user_id}
    rows = absences.absence_table(cur, session.require_user(), now, user_id)
    if rows.empty:
        st.caption(_("No current or coming absences."))
    for absence in rows.itertuples():
        line, remove = st.columns([5, 1], vertical_alignment="center")
        deputy = _("deputy: {name}").format(name=absence.deputy) if absence.deputy else _("no deputy")
        note = f" · {absence.note}" if absence.note else ""
        # st.text: the note is typed by a person and is never read as Markdown.
        line.text(f"{absence.starts_on:%d.%m.%Y} – {absence.ends_on:%d.%m.%Y} · {deputy}{note}")
        remove.button(_("Remove"), key=f"{key}_remove_{absence.id}", type="tertiary",
                      icon=":material/delete:", on_click=_remove, args=(key, int(absence.id)))
    errors = actions.errors(key)
    with st.form(f"{key}_form"):
        st.markdown("**" + _("Add an absence") + "**")
        first, last = st.columns(2)
        first.date_input(_("First day"), value=None, key=f"{key}_starts_on", format="DD.MM.YYYY")
        last.date_input(_("Last day"), value=None, key=f"{key}_ends_on", format="DD.MM.YYYY")
        field_error(errors, "starts_on")
        field_error(errors, "ends_on")
        st.selectbox(_("Deputy"), list(deputies), format_func=deputies.get, key=f"{key}_deputy", index=None,
                     placeholder=_("No deputy"),
                     help=_("While you are away, the deputy sees and works your leads."))
        field_error(errors, "deputy")
        st.text_input(_("Note"), key=f"{key}_note", placeholder=_("e.g. holiday, training"))
        field_error(errors, "note")
        st.form_submit_button(_("Add absence"), type="primary", on_click=_add, args=(key, user_id))
    actions.outcome(key, _FIELDS)


def _add(key: str, user_id: int) -> None:
    state = st.session_state
    actions.run(key, lambda: absences.add_absence(
        session.cursor(), session.require_user(), session.now(), user_id,
        state.get(f"{key}_starts_on"), state.get(f"{key}_ends_on"), state.get(f"{key}_deputy"),
        state.get(f"{key}_note") or ""),
        lambda a: _("Absence from {first:%d.%m.%Y} to {last:%d.%m.%Y} added.").format(
            first=a.starts_on, last=a.ends_on),
        forget=[f"{key}_{name}" for name in _FIELDS])


def _remove(key: str, absence_id: int) -> None:
    actions.run(key, lambda: absences.remove_absence(
        session.cursor(), session.require_user(), session.now(), absence_id), _("Absence removed."))
