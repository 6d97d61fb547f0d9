"""Sign-in form, the navigation it opens, sign-out, and throttled sign-in (SPEC sections 2 and 11)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from leadcore import sign_in
from leadcore.ui import session
from leadcore.ui.session import root_connection

FAILED = "Sign-in failed: the username or the password is wrong."


def _sign_in(at, username: str, password: str):
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    [button] = [b for b in at.button if b.label == "Sign in"]
    return button.click().run()


def test_the_tests_share_the_apps_cached_connection(db_path, con, people, open_app):
    """The premise of this suite: seeding and the app use one connection object per file."""
    assert root_connection(str(db_path)) is con
    at = open_app(people.anna)
    assert not at.exception
    assert at.title[0].value == "Leads"      # the app read the user seeded through `con`


def test_the_sign_in_form_has_its_labels_and_no_navigation(people, open_app, ui):
    at = open_app()
    assert not at.exception
    assert [w.label for w in at.text_input] == ["Username", "Password"]
    password_field = at.text_input(key="sign_in_password").proto
    assert password_field.type == password_field.PASSWORD     # masked
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.sidebar.button                 # no "Sign out", no pages before signing in
    assert not {"Leads", "Contacts"} & set(ui.page_titles(at))
    assert not at.dataframe
    assert "user_id" not in at.session_state


@pytest.mark.parametrize("username, secret", [("anna", "wrong password"), ("nobody", None)],
                         ids=["wrong password", "unknown user"])
def test_a_failed_sign_in_says_one_thing_and_not_which_part(people, password, open_app,
                                                            username, secret):
    at = open_app()
    _sign_in(at, username, secret or password)
    assert not at.exception
    assert [e.value for e in at.error] == [FAILED]
    message = FAILED.lower()
    assert "unknown" not in message and "no such user" not in message
    assert "user_id" not in at.session_state
    assert [b.label for b in at.button] == ["Sign in"]      # still the form, nothing else


def test_signing_in_opens_the_leads_page_with_the_navigation(people, password, open_app, ui):
    at = open_app()
    _sign_in(at, "Anna", password)                  # usernames are case-insensitive
    assert not at.exception
    assert not at.error
    assert at.session_state["user_id"] == people.anna.id
    assert at.title[0].value == "Leads"
    assert {"Leads", "Contacts"} <= set(ui.page_titles(at))
    assert "**Anna Becker**" in [m.value for m in at.sidebar.markdown]
    assert "Seller" in [c.value for c in at.sidebar.caption]
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    assert not at.text_input(key="lead_search").value


def test_an_inactive_user_cannot_sign_in(people, password, cur, open_app):
    cur.execute("UPDATE users SET active = FALSE WHERE id = ?", [people.ben.id])
    at = open_app()
    _sign_in(at, "ben", password)
    assert [e.value for e in at.error] == [FAILED]
    assert "user_id" not in at.session_state


def test_signing_out_returns_to_the_sign_in_form(people, password, open_app):
    at = open_app()
    _sign_in(at, "anna", password)
    assert at.title[0].value == "Leads"
    at.sidebar.button(key="sign_out").click().run()
    assert not at.exception
    assert "user_id" not in at.session_state
    assert [w.label for w in at.text_input] == ["Username", "Password"]
    assert not at.sidebar.button
    assert not at.dataframe


def test_a_deep_link_as_the_first_request_shows_the_sign_in_form(people, open_app, monkeypatch):
    import streamlit.testing.v1.app_test as app_test_module
    from streamlit.runtime.pages_manager import PagesManager

    # A fresh server's first request asks for /contacts, before anyone signed in: the plain
    # PagesManager runs the page file alone (the suite's fixture replaces it, see conftest).
    monkeypatch.setattr(app_test_module, "PagesManager", PagesManager)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=30)
    at.switch_page("pages/contacts.py").run()
    assert not at.exception
    assert [w.label for w in at.text_input] == ["Username", "Password"]


# --- throttling: five failures make the next attempt wait, twenty lock the username ----------

def test_five_failures_then_the_page_says_when_to_try_again(people, password, open_app):
    at = open_app()
    for _ in range(5):
        _sign_in(at, "anna", "wrong password")
        assert [e.value for e in at.error] == [FAILED]
    _sign_in(at, "anna", password)                                 # right, but too soon
    assert not at.exception
    assert [e.value for e in at.error] == ["Too many failed sign-ins. Try again after 10:00:30."]
    assert "user_id" not in at.session_state


def test_a_locked_username_is_refused_with_a_sentence(cur, people, password, open_app, now):
    for n in range(sign_in.LOCK_AFTER):
        sign_in.attempt(cur, now + timedelta(hours=n), "anna", "wrong", "ip:192.0.2.1")
    at = open_app()
    _sign_in(at, "anna", password)
    assert [e.value for e in at.error] == [
        "This username is locked after too many failed sign-ins; an admin can unlock it in "
        "Settings → Users."]
    assert "user_id" not in at.session_state


def test_an_admin_unlocks_a_locked_user_in_settings(cur, people, password, open_app, now, ui):
    for n in range(sign_in.LOCK_AFTER):
        sign_in.attempt(cur, now - timedelta(hours=30 - n), "anna", "wrong", "ip:192.0.2.1")
    at = open_app(people.frank, page="pages/settings.py")
    at.selectbox(key="user_edit_id").set_value(people.anna.id).run()
    assert "Locked after too many failed sign-ins." in [w.value for w in at.warning]
    at.button(key=f"user_{people.anna.id}_unlock").click().run()
    assert not at.exception
    assert "anna can sign in again." in [s.value for s in at.success]
    assert sign_in.locked_usernames(cur) == []
    assert sign_in.attempt(cur, now, "anna", password, "ip:192.0.2.1") == people.anna


def test_a_manager_sees_the_lock_but_cannot_unlock(cur, people, open_app, now):
    for n in range(sign_in.LOCK_AFTER):
        sign_in.attempt(cur, now - timedelta(hours=30 - n), "anna", "wrong", "ip:192.0.2.1")
    at = open_app(people.dirk, page="pages/settings.py")
    at.selectbox(key="user_edit_id").set_value(people.anna.id).run()
    assert "Locked after too many failed sign-ins." in [w.value for w in at.warning]
    assert not [b for b in at.button if b.label == "Unlock sign-in"]


def test_the_sign_in_page_already_starts_the_servers_scheduler(open_app, monkeypatch):
    """A server of a dealer group can take over the group's jobs once anyone has opened it."""
    started = []
    monkeypatch.setenv("LEADCORE_SCHEDULER", "on")
    monkeypatch.setattr(session, "_scheduler", started.append)
    at = open_app(None)
    assert at.text_input(key="sign_in_username") and started
