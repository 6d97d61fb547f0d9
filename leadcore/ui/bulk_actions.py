"""Bulk actions on the leads selected in the list: change editor, set resubmission, complete."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from leadcore.leads import service as leads
from leadcore.admin import reasons
from leadcore.errors import ValidationError, ValidationErrors
from leadcore.i18n import _
from leadcore.ui import session
from leadcore.ui.fields import date_time_inputs, field_error, local_moment

ERRORS_KEY = "bulk_errors"
ACTIONS = {"editor": "Change editor", "resubmission": "Set resubmission", "complete": "Complete"}


def _run(action: Callable[[], leads.BulkResult]) -> None:
    """Callback: apply the action, then summarise what changed and name what was refused."""
    try:
        result = action()
    except ValidationError as error:
        st.session_state[ERRORS_KEY] = {error.field: error.message}
        return
    except ValidationErrors as error:
        st.session_state[ERRORS_KEY] = error.by_field()
        return
    st.session_state.pop(ERRORS_KEY, None)
    lines = [_("{n} leads changed.").format(n=len(result.changed))]
    lines += [_("Lead #{id} left alone: {why}").format(id=lead_id, why=why)
              for lead_id, why in result.refused.items()]
    session.flash("  \n".join(lines))
    st.session_state["lead_table_view"] = st.session_state.get("lead_table_view", 0) + 1


def bulk_actions(lead_ids: list[int]) -> None:
    if not lead_ids:
        st.caption(_("Tick the leads to change together, then choose what to do."))
        return
    cur, user, tz = session.cursor(), session.require_user(), session.timezone()
    errors: dict[str, str] = st.session_state.get(ERRORS_KEY, {})
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
                run = lambda: leads.bulk_change_editor(session.cursor(), user, session.now(), lead_ids,
                                                       st.session_state.get("bulk_editor") or -1)
            elif action == "resubmission":
                date_time_inputs("bulk_resubmission", _("Resubmission date"), _("Resubmission time"))
                field_error(errors, "resubmission")
                run = lambda: leads.bulk_set_resubmission(session.cursor(), user, session.now(), lead_ids,
                                                          local_moment("bulk_resubmission", tz))
            else:
                choices = {r.id: reasons.shown_label(r.label) for r in reasons.list_reasons(cur)}
                st.selectbox(_("Completion reason"), list(choices), format_func=choices.get, index=None,
                             placeholder=_("Choose a reason"), key="bulk_reason")
                field_error(errors, "reason")
                run = lambda: leads.bulk_complete(session.cursor(), user, session.now(), lead_ids,
                                                  st.session_state.get("bulk_reason"))
            st.form_submit_button(_("Apply to {n} leads").format(n=len(lead_ids)), type="primary",
                                  on_click=_run, args=(run,))
