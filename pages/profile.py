"""My settings: every signed-in user picks their language and enters when they are away and who
stands in for them."""
import streamlit as st

from leadcore.i18n import _
from leadcore.ui import session
from leadcore.ui.absence_form import absences_panel
from leadcore.ui.language_form import language_panel

user = session.require_user()
st.title(_("My settings"))
st.subheader(_("Language"))
language_panel(user)
st.subheader(_("My absences"))
st.caption(_("While you are away, your deputy sees and works your leads."))
absences_panel(user.id, key="my_absence")
