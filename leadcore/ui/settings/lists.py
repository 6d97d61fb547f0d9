"""Settings tabs for the lists the dealership keeps in order: sources and completion reasons."""
from __future__ import annotations

import streamlit as st

from leadcore.admin import reasons, sources
from leadcore.i18n import _
from leadcore.ui import actions, session
from leadcore.ui import format as fmt
from leadcore.ui.fields import field_error

_SOURCE_FIELDS = ("name", "channel", "active", "users")


def _channel(code: str) -> str:
    return _(sources.CHANNELS.get(code, code))


def _move(kind: str, move, row_id: int, steps: int) -> None:
    actions.run(f"{kind}_{row_id}", lambda: move(
        session.cursor(), session.require_user(), session.now(), row_id, steps), _("Order saved."))


def _delete(kind: str, delete, done: str, row_id: int) -> None:
    prefix = f"{kind}_{row_id}"

    def work() -> None:
        delete(session.cursor(), session.require_user(), session.now(), row_id)
        st.session_state.pop(f"{kind}_edit_id", None)

    # The notice goes under the list: the deleted row's own form is gone.
    actions.run(prefix, work, done, notice_to=f"{kind}s",
                forget=[k for k in st.session_state if str(k).startswith(f"{prefix}_")])


def _row_buttons(kind: str, row_id: int, move, delete=None, delete_label: str = "",
                 delete_help: str = "", deleted: str = "") -> None:
    """Move up, Move down and (where allowed) Delete under the edit form of one row.

    move / delete are the service functions (sources.move_source, reasons.delete_reason...).
    """
    prefix = f"{kind}_{row_id}"
    up, down, remove = st.columns(3)
    up.button(_("Move up"), key=f"{prefix}_up", icon=":material/arrow_upward:", on_click=_move,
              args=(kind, move, row_id, -1), width="stretch")
    down.button(_("Move down"), key=f"{prefix}_down", icon=":material/arrow_downward:", on_click=_move,
                args=(kind, move, row_id, 1), width="stretch")
    if delete is not None:
        remove.button(delete_label, key=f"{prefix}_delete", icon=":material/delete:", on_click=_delete,
                      args=(kind, delete, deleted, row_id), help=delete_help, width="stretch")


# --- sources -----------------------------------------------------------------------------------

def sources_tab() -> None:
    cur = session.cursor()
    every = sources.list_sources(cur, active_only=False)
    workers = session.user_names(editors_only=True)
    used = dict(cur.execute("SELECT source_id, count(*) FROM leads GROUP BY source_id").fetchall())
    st.dataframe(
        [{"name": s.name, "channel": _channel(s.channel), "active": s.active,
          "users": ", ".join(workers.get(u, "?") for u in sources.assigned_users(cur, s.id)),
          "leads": used.get(s.id, 0)} for s in every],
        hide_index=True, key="sources_table",
        column_config={"name": st.column_config.TextColumn(_("Source")),
                       "channel": st.column_config.TextColumn(_("Channel")),
                       "active": st.column_config.CheckboxColumn(_("Active")),
                       "users": st.column_config.TextColumn(_("Assigned users"), width="large"),
                       "leads": st.column_config.NumberColumn(_("Leads"))})
    st.caption(_("The order here is the order of the source choice in the lead form. New leads of a "
                 "source go in turn to its assigned users."))
    actions.outcome("sources")
    left, right = st.columns(2)
    with left:
        _edit_source(cur, {s.id: s for s in every}, workers)
    with right:
        _add_source_form(workers)


def _add_source_form(workers: dict[int, str]) -> None:
    errors = actions.errors("source_add")
    with st.form("source_add_form"):
        st.markdown("**" + _("Add a source") + "**")
        st.text_input(_("Name"), key="source_add_name")
        field_error(errors, "name")
        st.selectbox(_("Channel"), list(sources.CHANNELS), format_func=_channel, key="source_add_channel")
        field_error(errors, "channel")
        st.multiselect(_("Assigned users"), list(workers), format_func=workers.get, key="source_add_users",
                       placeholder=_("No one assigned"))
        field_error(errors, "users")
        st.form_submit_button(_("Add source"), type="primary", on_click=_add_source)
    actions.outcome("source_add", _SOURCE_FIELDS)


def _add_source() -> None:
    state = st.session_state
    actions.run("source_add", lambda: sources.add_source(
        session.cursor(), session.require_user(), session.now(), state.get("source_add_name") or "",
        state.get("source_add_channel") or "", list(state.get("source_add_users") or [])),
        lambda s: _("Source {name} added.").format(name=fmt.md_escape(s.name)),
        forget=["source_add_name", "source_add_users"])


def _edit_source(cur, every: dict[int, sources.Source], workers: dict[int, str]) -> None:
    st.markdown("**" + _("Change a source") + "**")
    source_id = st.selectbox(_("Source to change"), list(every), key="source_edit_id",
                             format_func=lambda i: every[i].name)
    if source_id is None:
        return
    source, prefix = every[source_id], f"source_{source_id}"
    actions.seed({f"{prefix}_name": source.name, f"{prefix}_channel": source.channel,
                  f"{prefix}_active": source.active,
                  f"{prefix}_users": [u for u in sources.assigned_users(cur, source_id) if u in workers]})
    errors = actions.errors(prefix)
    with st.form(f"{prefix}_form"):
        st.text_input(_("Name"), key=f"{prefix}_name")
        field_error(errors, "name")
        st.selectbox(_("Channel"), list(sources.CHANNELS), format_func=_channel, key=f"{prefix}_channel")
        st.checkbox(_("Active (offered in the lead form)"), key=f"{prefix}_active")
        field_error(errors, "active")
        st.multiselect(_("Assigned users"), list(workers), format_func=workers.get, key=f"{prefix}_users",
                       placeholder=_("No one assigned"))
        field_error(errors, "users")
        st.form_submit_button(_("Save source"), type="primary", on_click=_save_source, args=(source_id,))
    _row_buttons("source", source_id, sources.move_source, sources.delete_source, _("Delete source"),
                 _("Only a source no lead uses can be deleted; deactivate the others."), _("Source deleted."))
    actions.outcome(prefix, _SOURCE_FIELDS)


def _save_source(source_id: int) -> None:
    state, prefix = st.session_state, f"source_{source_id}"
    actions.run(prefix, lambda: sources.update_source(
        session.cursor(), session.require_user(), session.now(), source_id,
        name=state.get(f"{prefix}_name") or "", channel=state.get(f"{prefix}_channel"),
        active=bool(state.get(f"{prefix}_active")), user_ids=list(state.get(f"{prefix}_users") or [])),
        lambda s: _("Source {name} saved.").format(name=fmt.md_escape(s.name)))


# --- completion reasons --------------------------------------------------------------------------

_REASON_FIELDS = ("label", "outcome", "hidden", "reason")


def _outcome(code: str) -> str:
    return _(reasons.OUTCOMES.get(code, code))


def reasons_tab() -> None:
    cur = session.cursor()
    every = reasons.list_reasons(cur, include_hidden=True)
    used = dict(cur.execute("SELECT completion_reason_id, count(*) FROM leads"
                            " WHERE completion_reason_id IS NOT NULL GROUP BY completion_reason_id").fetchall())
    st.dataframe(
        [{"label": reasons.shown_label(r.label), "outcome": _outcome(r.outcome), "system": r.is_system, "hidden": r.hidden,
          "leads": used.get(r.id, 0)} for r in every],
        hide_index=True, key="reasons_table",
        column_config={"label": st.column_config.TextColumn(_("Completion reason"), width="medium"),
                       "outcome": st.column_config.TextColumn(_("Outcome")),
                       "system": st.column_config.CheckboxColumn(_("System")),
                       "hidden": st.column_config.CheckboxColumn(_("Hidden")),
                       "leads": st.column_config.NumberColumn(_("Leads"))})
    st.caption(_("Hidden reasons leave the completion choice; completed leads keep theirs. System "
                 "reasons can be relabelled and hidden, never deleted."))
    actions.outcome("reasons")
    left, right = st.columns(2)
    with left:
        _edit_reason({r.id: r for r in every})
    with right:
        _add_reason_form()


def _add_reason_form() -> None:
    errors = actions.errors("reason_add")
    with st.form("reason_add_form"):
        st.markdown("**" + _("Add a completion reason") + "**")
        st.text_input(_("Label"), key="reason_add_label")
        field_error(errors, "label")
        st.selectbox(_("Outcome"), list(reasons.OUTCOMES), format_func=_outcome, key="reason_add_outcome")
        field_error(errors, "outcome")
        st.form_submit_button(_("Add reason"), type="primary", on_click=_add_reason)
    actions.outcome("reason_add", _REASON_FIELDS)


def _add_reason() -> None:
    state = st.session_state
    actions.run("reason_add", lambda: reasons.add_reason(
        session.cursor(), session.require_user(), session.now(), state.get("reason_add_label") or "",
        state.get("reason_add_outcome") or ""),
        lambda r: _("Completion reason {label} added.").format(label=fmt.md_escape(r.label)),
        forget=["reason_add_label"])


def _edit_reason(every: dict[int, reasons.CompletionReason]) -> None:
    st.markdown("**" + _("Change a completion reason") + "**")
    reason_id = st.selectbox(_("Completion reason to change"), list(every), key="reason_edit_id",
                             format_func=lambda i: reasons.shown_label(every[i].label))
    if reason_id is None:
        return
    reason, prefix = every[reason_id], f"reason_{reason_id}"
    actions.seed({f"{prefix}_label": reason.label, f"{prefix}_outcome": reason.outcome,
                  f"{prefix}_hidden": reason.hidden})
    errors = actions.errors(prefix)
    with st.form(f"{prefix}_form"):
        st.text_input(_("Label"), key=f"{prefix}_label")
        field_error(errors, "label")
        st.selectbox(_("Outcome"), list(reasons.OUTCOMES), format_func=_outcome, key=f"{prefix}_outcome",
                     disabled=reason.is_system,
                     help=_("The outcome of a system reason is fixed.") if reason.is_system else None)
        field_error(errors, "outcome")
        st.checkbox(_("Hidden (not offered when completing a lead)"), key=f"{prefix}_hidden")
        field_error(errors, "hidden")
        st.form_submit_button(_("Save reason"), type="primary", on_click=_save_reason, args=(reason_id,))
    _row_buttons("reason", reason_id, reasons.move_reason, None if reason.is_system else reasons.delete_reason,
                 _("Delete reason"), _("Only a reason no lead was completed with can be deleted; hide the others."),
                 _("Completion reason deleted."))
    actions.outcome(prefix, _REASON_FIELDS)


def _save_reason(reason_id: int) -> None:
    state, prefix = st.session_state, f"reason_{reason_id}"
    actions.run(prefix, lambda: reasons.update_reason(
        session.cursor(), session.require_user(), session.now(), reason_id,
        label=state.get(f"{prefix}_label") or "", outcome=state.get(f"{prefix}_outcome"),
        hidden=bool(state.get(f"{prefix}_hidden"))),
        lambda r: _("Completion reason {label} saved.").format(label=fmt.md_escape(r.label)))
