"""Bulk actions on the leads selected in the list: change editor, set resubmission, complete."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from leadcore.admin import reasons
from leadcore.i18n import _
from leadcore.leads import service as leads
from leadcore.ui import actions, session
from leadcore.ui.fields import date_time_inputs, field_error, local_moment

SCOPE = "bulk"
ACTIONS = {"editor": "Change editor", "resubmission": "Set resubmission", "complete": "Complete"}
_FIELDS = ("editor", "resubmission", "reason")


def _summary(result: leads.BulkResult) -> str:
    """What changed, and each lead left alone with the reason."""
    lines = [_("{n} leads changed.").format(n=len(result.changed))]
    lines += [_("Lead #{id} left alone: {why}").format(id=lead_id, why=why)
              for lead_id, why in result.refused.items()]
    return "  \n".join(lines)


def _run(action: Callable[[], leads.BulkResult], on_done: Callable[[], None]) -> None:
    """Callback: apply the action; the summary shows once on the next run, then the page's own
    `on_done` (the Leads page starts a fresh selection)."""
    def done(result: leads.BulkResult) -> None:
        session.flash(_summary(result))
        on_done()

    actions.run(SCOPE, action, None, then=done)


def bulk_actions(lead_ids: list[int], on_done: Callable[[], None]) -> None:
    """The bulk form for `lead_ids`; `on_done` runs after a successful action (the page decides
    what that means for its own list)."""
    if not lead_ids:
        st.caption(_("Tick the leads to change together, then choose what to do."))
        return
    cur, tz = session.cursor(), session.timezone()
    errors = actions.errors(SCOPE)
    with st.container(border=True, key="bulk_actions"):
        st.markdown(_("**{n} leads selected**").format(n=len(lead_ids)))
        action = st.segmented_control(_("Action"), list(ACTIONS), format_func=lambda a: _(ACTIONS[a]),
                                      default="editor", key="bulk_action")
        with st.form("bulk_form", border=False):
            if action == "editor":
                editors = session.user_names(editors_only=True)
                st.selectbox(_("New editor"), list(editors), format_func=editors.get, index=None,
                             placeholder=_("Choose a user"), key="bulk_editor")
                field_error(errors, "editor")

                def run() -> leads.BulkResult:
                    return leads.bulk_change_editor(session.cursor(), session.acting_user(), session.now(),
                                                    lead_ids, st.session_state.get("bulk_editor") or -1)
            elif action == "resubmission":
                date_time_inputs("bulk_resubmission", _("Resubmission date"), _("Resubmission time"))
                field_error(errors, "resubmission")

                def run() -> leads.BulkResult:
                    return leads.bulk_set_resubmission(session.cursor(), session.acting_user(), session.now(),
                                                       lead_ids, local_moment("bulk_resubmission", tz))
            else:
                choices = {r.id: reasons.shown_label(r.label) for r in reasons.list_reasons(cur)}
                st.selectbox(_("Completion reason"), list(choices), format_func=choices.get, index=None,
                             placeholder=_("Choose a reason"), key="bulk_reason")
                field_error(errors, "reason")

                def run() -> leads.BulkResult:
                    return leads.bulk_complete(session.cursor(), session.acting_user(), session.now(),
                                               lead_ids, st.session_state.get("bulk_reason"))
            st.form_submit_button(_("Apply to {n} leads").format(n=len(lead_ids)), type="primary",
                                  on_click=_run, args=(run, on_done))
        actions.outcome(SCOPE, _FIELDS)
