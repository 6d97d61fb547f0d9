"""leadcore's entry point: sign-in, then the pages the signed-in user's role may use."""
import streamlit as st

from leadcore import roles, sign_in
from leadcore.i18n import _
from leadcore.ui import actions, session
from leadcore.ui import format as fmt

PRODUCT = "leadcore"   # a name, not a text to translate
st.set_page_config(page_title=PRODUCT, page_icon=":material/directions_car:", layout="wide")
# First: it also sets this run's language, which every title below is read in.
user = session.current_user()

# Pages and the capability each needs (leadcore.roles); None: every signed-in user.
PAGES = {
    "leads": (st.Page("pages/leads.py", title=_("Leads"), icon=":material/view_list:", default=True), None),
    "contacts": (st.Page("pages/contacts.py", title=_("Contacts"), icon=":material/contacts:"), None),
    "dashboard": (st.Page("pages/dashboard.py", title=_("Dashboard"), icon=":material/dashboard:"),
                  roles.DASHBOARD),
    "explore": (st.Page("pages/explore.py", title=_("Explore"), icon=":material/query_stats:"), roles.EXPLORE),
    "intake": (st.Page("pages/intake.py", title=_("Intake"), icon=":material/move_to_inbox:"), roles.INTAKE),
    "settings": (st.Page("pages/settings.py", title=_("Settings"), icon=":material/settings:"),
                 roles.EDIT_SETTINGS),
    "profile": (st.Page("pages/profile.py", title=_("My settings"), icon=":material/manage_accounts:",
                        url_path="my-settings"), None),
    # The page's old address (bookmarks): hidden from the menu, it forwards to My settings.
    "old_profile": (st.Page(lambda: st.switch_page("pages/profile.py"), title=_("My settings"),
                            url_path="my-absences", visibility="hidden"), None),
}


def sign_in_form() -> None:
    _left, middle, _right = st.columns([1, 1.2, 1])
    with middle:
        st.title(f":material/directions_car: {PRODUCT}")
        st.caption(_("The lead desk of your dealership"))
        with st.form("sign_in"):
            username = st.text_input(_("Username"), key="sign_in_username")
            password = st.text_input(_("Password"), type="password", key="sign_in_password")
            if st.form_submit_button(_("Sign in"), type="primary", width="stretch"):
                with actions.page_errors():
                    _sign_in(username, password)


def _sign_in(username: str, password: str) -> None:
    try:
        user = sign_in.attempt(session.cursor(), session.now(), username, password, session.client_id())
    except sign_in.SignInThrottled as refused:
        if refused.until is None:
            st.error(refused.message, icon=":material/lock:")
        else:
            st.error(_("Too many failed sign-ins. Try again after {time}.").format(
                time=fmt.when(refused.until, session.timezone(), "HH:mm:ss")), icon=":material/timer:")
        return
    if user is None:
        st.error(_("Sign-in failed: the username or the password is wrong."), icon=":material/lock:")
        return
    session.sign_in(user)
    st.rerun()


with actions.page_errors():      # a failing start must not keep anyone from signing in
    session.start_scheduler()

if user is None:
    # A hidden one-page navigation: no page names in the sidebar before sign-in.
    st.navigation([st.Page(sign_in_form, title=_("Sign in"), url_path="sign-in")], position="hidden").run()
    st.stop()

unread = 0
with actions.page_errors():      # a failing sweep or count must not keep anyone from the pages
    session.sweep_on_page_load()
    unread = session.unread_notifications(user)
# The count in the title is the sidebar's badge; url_path keeps the page's address stable.
PAGES["notifications"] = (
    st.Page("pages/notifications.py", title=_("Notifications") + (f" ({unread})" if unread else ""),
            icon=":material/notifications:", url_path="notifications"),
    roles.NOTIFICATIONS)
allowed = [page for page, needs in PAGES.values() if needs is None or roles.can(user, needs)]
navigation = st.navigation(allowed)
with st.sidebar:
    st.markdown(f"**{fmt.md_escape(user.full_name)}**")     # a name is data, never Markdown
    st.caption(_(roles.ROLE_LABELS[user.role]))
    if st.button(_("Sign out"), icon=":material/logout:", key="sign_out"):
        session.sign_out()
        st.rerun()
    if user.role == "admin":
        # Which file this server serves: admins only (a path tells an outsider about the server).
        st.caption(_("Database: {path}").format(path=fmt.md_escape(session.database_file())))
session.follow_redirect()
with actions.page_errors():      # a page that fails says so in a sentence, never with a trace
    navigation.run()
