"""The sign-in page under throttling: after five failures it says when to try again, a locked
username says who can help, and an admin unlocks it in Settings → Users."""
from __future__ import annotations

from datetime import timedelta

from leadcore import auth

FAILED = "Sign-in failed: the username or the password is wrong."


def _sign_in(at, username: str, password: str):
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    [button] = [b for b in at.button if b.label == "Sign in"]
    return button.click().run()


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
    for n in range(auth.LOCK_AFTER):
        auth.sign_in(cur, now + timedelta(hours=n), "anna", "wrong", "ip:192.0.2.1")
    at = open_app()
    _sign_in(at, "anna", password)
    assert [e.value for e in at.error] == [
        "This username is locked after too many failed sign-ins; an admin can unlock it in "
        "Settings → Users."]
    assert "user_id" not in at.session_state


def test_an_admin_unlocks_a_locked_user_in_settings(cur, people, password, open_app, now, ui):
    for n in range(auth.LOCK_AFTER):
        auth.sign_in(cur, now - timedelta(hours=30 - n), "anna", "wrong", "ip:192.0.2.1")
    at = open_app(people.frank, page="pages/settings.py")
    at.selectbox(key="user_edit_id").set_value(people.anna.id).run()
    assert "Locked after too many failed sign-ins." in [w.value for w in at.warning]
    at.button(key=f"user_{people.anna.id}_unlock").click().run()
    assert not at.exception
    assert "anna can sign in again." in [s.value for s in at.success]
    assert auth.locked_usernames(cur) == []
    assert auth.sign_in(cur, now, "anna", password, "ip:192.0.2.1") == people.anna


def test_a_manager_sees_the_lock_but_cannot_unlock(cur, people, open_app, now):
    for n in range(auth.LOCK_AFTER):
        auth.sign_in(cur, now - timedelta(hours=30 - n), "anna", "wrong", "ip:192.0.2.1")
    at = open_app(people.dirk, page="pages/settings.py")
    at.selectbox(key="user_edit_id").set_value(people.anna.id).run()
    assert "Locked after too many failed sign-ins." in [w.value for w in at.warning]
    assert not [b for b in at.button if b.label == "Unlock sign-in"]
