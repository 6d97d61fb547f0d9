"""The Audit log settings tab: the newest changes to the settings, who made them and what changed."""
from __future__ import annotations

import streamlit as st

from leadcore import audit
from leadcore.i18n import N_, _
from leadcore.ui import format as fmt
from leadcore.ui import session

AREAS = {"basic_settings": N_("Basic settings"), "working_hours": N_("Working hours"),
         "holidays": N_("Holidays"), "escalation": N_("Escalation times"), "sources": N_("Sources"),
         "users": N_("Users"), "absences": N_("Absences"), "reasons": N_("Completion reasons"),
         "mail_templates": N_("E-mail templates"), "backup": N_("Backup")}
ACTIONS = {"add": N_("added"), "update": N_("changed"), "remove": N_("removed"), "move": N_("moved"),
           "fill": N_("public holidays filled in"), "activate": N_("reactivated"),
           "deactivate": N_("deactivated"), "reset_password": N_("password reset"),
           "backup": N_("backed up"), "restore": N_("restored")}
LIMIT = 200


def audit_tab() -> None:
    cur, tz = session.cursor(), session.timezone()
    area = st.selectbox(_("Area"), list(AREAS), format_func=lambda a: _(AREAS[a]), index=None,
                        placeholder=_("All areas"), key="audit_area")
    rows = audit.recent(cur, session.require_user(), LIMIT, area)
    if rows.empty:
        st.info(_("No changes recorded yet."), icon=":material/history:")
        return
    shown = rows.assign(happened_at=[fmt.when(t, tz) for t in rows["happened_at"]],
                        area=rows["area"].map(lambda a: _(AREAS.get(a, a))),
                        action=rows["action"].map(lambda a: _(ACTIONS.get(a, a))),
                        change=rows["detail"].map(audit.describe))
    st.dataframe(shown, hide_index=True, key="audit_table",
                 column_order=["happened_at", "who", "area", "entity_id", "action", "change"],
                 column_config={"happened_at": st.column_config.TextColumn(_("When")),
                                "who": st.column_config.TextColumn(_("Who")),
                                "area": st.column_config.TextColumn(_("Area")),
                                "entity_id": st.column_config.TextColumn(_("Item")),
                                "action": st.column_config.TextColumn(_("Action")),
                                "change": st.column_config.TextColumn(_("What changed"), width="large")})
    st.caption(_("The newest {n} changes.").format(n=LIMIT))
