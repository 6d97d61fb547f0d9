"""Settings (managers and admins): the dealership's rules, lists and users, and the audit log."""
import streamlit as st

from leadcore.i18n import _
from leadcore.roles import may_edit_settings, may_manage_backups
from leadcore.ui import session
from leadcore.ui.audit_log import audit_tab
from leadcore.ui.outbox_view import outbox_tab
from leadcore.ui.settings.backup import backup_tab
from leadcore.ui.settings.intake import intake_tab
from leadcore.ui.settings.lists import reasons_tab, sources_tab
from leadcore.ui.settings.rules import basic_settings_tab, escalation_tab, holidays_tab, working_hours_tab
from leadcore.ui.settings.templates import templates_tab
from leadcore.ui.settings.users import users_tab

user = session.require_user()
st.title(_("Settings"))
if not may_edit_settings(user):
    # The navigation offers this page to managers and admins only; the services check it too.
    st.error(_("Only managers and admins may change the settings."), icon=":material/block:")
    st.stop()

TABS = [
    (_("Basic settings"), basic_settings_tab),
    (_("Working hours"), working_hours_tab),
    (_("Holidays"), holidays_tab),
    (_("Escalation times"), escalation_tab),
    (_("Sources"), sources_tab),
    (_("Intake"), intake_tab),
    (_("Users"), users_tab),
    (_("Completion reasons"), reasons_tab),
    (_("E-mail templates"), templates_tab),
    (_("Outbox"), outbox_tab),
    (_("Audit log"), audit_tab),
]
if may_manage_backups(user):      # backups hold every customer's data: admins only
    TABS.append((_("Backup"), backup_tab))
for tab, (_title, draw) in zip(st.tabs([title for title, _draw in TABS]), TABS):
    with tab:
        draw()
