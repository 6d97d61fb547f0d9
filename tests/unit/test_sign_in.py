"""Signing in, and an admin adding users (the fields a wrong input is reported on)."""
from __future__ import annotations

import pytest

from leadcore import auth
from leadcore.admin import users
from leadcore.errors import NotFound, ValidationErrors


def test_sign_in_with_the_right_password_returns_the_user(cur, seller, password):
    user = auth.authenticate(cur, "anna", password)
    assert user == seller
    assert (user.username, user.full_name, user.role, user.active) == ("anna", "Anna Becker", "seller", True)


def test_sign_in_with_a_wrong_password_fails(cur, seller, password):
    assert auth.authenticate(cur, "anna", password + "!") is None
    assert auth.authenticate(cur, "anna", "") is None


def test_sign_in_as_an_unknown_user_fails_the_same_way(cur, seller, password):
    assert auth.authenticate(cur, "nobody", password) is None


def test_username_is_case_insensitive_and_trimmed(cur, seller, password):
    assert auth.authenticate(cur, "  ANNA ", password) == seller
    assert auth.authenticate(cur, "Anna", password) == seller


def test_password_is_case_sensitive(cur, seller, password):
    assert auth.authenticate(cur, "anna", password.upper()) is None


def test_an_inactive_user_cannot_sign_in(cur, seller, password):
    cur.execute("UPDATE users SET active = FALSE WHERE id = ?", [seller.id])
    assert auth.authenticate(cur, "anna", password) is None


def test_passwords_are_stored_hashed(cur, seller, password):
    stored = cur.execute("SELECT password_hash FROM users WHERE id = ?", [seller.id]).fetchall()[0][0]
    assert password not in stored
    assert stored.startswith("$argon2id$")


def test_add_user_stores_role_superiors_and_trimmed_names(cur, now, supervisor, password):
    user = users.add_user(cur, now, "  jonas ", "  Jonas Weber ", " jonas@autohaus.example ",
                          "seller", password, location="Potsdam", superiors=[supervisor.id])
    assert (user.username, user.full_name, user.email, user.location) == (
        "jonas", "Jonas Weber", "jonas@autohaus.example", "Potsdam")
    assert auth.get_user(cur, user.id) == user
    assert cur.execute("SELECT superior_id FROM user_superiors WHERE user_id = ?",
                       [user.id]).fetchall() == [(supervisor.id,)]


@pytest.mark.parametrize("username, full_name, role, pw, field", [
    pytest.param("jonas", "Jonas Weber", "seller", "1234567", "password", id="short-password"),
    pytest.param("jonas", "Jonas Weber", "boss", "long enough", "role", id="bad-role"),
    pytest.param("   ", "Jonas Weber", "seller", "long enough", "username", id="empty-username"),
    pytest.param("jonas", "  ", "seller", "long enough", "full_name", id="empty-name"),
])
def test_add_user_names_the_bad_field(cur, now, count, username, full_name, role, pw, field):
    before = count("users")
    with pytest.raises(ValidationErrors) as caught:
        users.add_user(cur, now, username, full_name, "j@autohaus.example", role, pw)
    assert list(caught.value.by_field()) == [field]
    assert count("users") == before


@pytest.mark.parametrize("email", ["", "jonas@", "jonas at autohaus"])
def test_a_user_needs_a_valid_email_for_escalations(cur, now, count, email):
    with pytest.raises(ValidationErrors) as caught:
        users.add_user(cur, now, "jonas", "Jonas Weber", email, "seller", "long enough")
    assert list(caught.value.by_field()) == ["email"]
    assert count("users") == 0


def test_a_password_of_exactly_eight_characters_is_enough(cur, now):
    user = users.add_user(cur, now, "jonas", "Jonas Weber", "j@autohaus.example", "seller", "12345678")
    assert auth.authenticate(cur, "jonas", "12345678") == user


def test_add_user_reports_every_bad_field_at_once(cur, now):
    with pytest.raises(ValidationErrors) as caught:
        users.add_user(cur, now, "", "", "j@autohaus.example", "boss", "short")
    assert set(caught.value.by_field()) == {"username", "full_name", "role", "password"}
    assert "Role must be one of: seller, supervisor, manager, analyst, admin." in caught.value.message


def test_a_taken_username_is_refused_whatever_its_case(cur, now, seller, count):
    before = count("users")
    with pytest.raises(ValidationErrors) as caught:
        users.add_user(cur, now, "ANNA", "Anna Other", "other@autohaus.example", "seller", "long enough")
    assert caught.value.by_field() == {"username": "The username ANNA is taken."}
    assert count("users") == before


def test_editors_to_choose_from_are_active_non_analysts(cur, seller, seller2, supervisor, manager,
                                                        analyst, admin):
    cur.execute("UPDATE users SET active = FALSE WHERE id = ?", [seller2.id])
    names = [u.full_name for u in users.possible_editors(cur)]
    assert names == ["Anna Becker", "Clara Vogt", "Dirk Hahn", "Frank Admin"]
    assert len(users.all_users(cur)) == 6


def test_roles_say_who_writes_and_who_sees_everything(seller, supervisor, manager, analyst, admin):
    assert [u.can_write for u in (seller, supervisor, manager, analyst, admin)] == [
        True, True, True, False, True]
    assert [u.sees_all_leads for u in (seller, supervisor, manager, analyst, admin)] == [
        False, False, True, True, True]


def test_an_unknown_user_id_is_not_found(cur):
    with pytest.raises(NotFound):
        auth.get_user(cur, 999)
