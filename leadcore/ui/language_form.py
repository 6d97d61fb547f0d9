"""The language picker of "My settings": the user's own language or the dealership's default.
It saves on change and the page reruns in the new language (no signing out)."""
from __future__ import annotations

import streamlit as st

from leadcore import i18n
from leadcore.admin import settings, users
from leadcore.auth import User
from leadcore.i18n import LANGUAGES, _
from leadcore.ui import actions, session

_KEY = "my_language"
_DEALERSHIP = ""   # the choice "as the dealership": stored as NULL


def language_panel(user: User) -> None:
    default = LANGUAGES[settings.dealership_language(session.cursor())]
    choices = {_DEALERSHIP: _("As the dealership ({language})").format(language=default), **LANGUAGES}
    actions.seed({_KEY: user.language or _DEALERSHIP}, force=True)
    st.selectbox(_("Language"), list(choices), format_func=choices.get, key=_KEY, on_change=_save,
                 help=_("The language of leadcore's pages and of the e-mails leadcore sends you."))
    actions.outcome(_KEY, ("language",))


def _save() -> None:
    chosen = st.session_state.get(_KEY) or None

    def work() -> User:
        user = users.set_language(session.cursor(), session.require_user(), session.now(), chosen)
        # The notice below is already read in the new language.
        st.session_state["_language"] = i18n.activate(settings.user_language(session.cursor(), user))
        return user

    actions.run(_KEY, work, lambda _user: _("Language saved."))
