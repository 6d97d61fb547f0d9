"""My absences: every signed-in user enters when they are away and who stands in for them."""
import streamlit as st

from leadcore.i18n import _
from leadcore.ui import session
from leadcore.ui.absence_form import absences_panel

user = session.require_user()
st.title(_("My absences"))
st.caption(_("While you are away, your deputy sees and works your leads."))
absences_panel(user.id, key="my_absence")
