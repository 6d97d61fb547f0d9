"""Users and supervisors in Settings: add, edit, deactivate (never delete), superiors without
circles, the admin's password reset, who may do what, and absences with a deputy."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest

from leadcore import auth
from leadcore.admin import absences, users
from leadcore.admin.users import UserInput
from leadcore.errors import NotFound, PermissionDenied, ValidationErrors
from tests.factories import absences_of

TODAY = date(2026, 11, 27)   # the fixtures' `now`, a Friday


def _fields(caught) -> dict[str, str]:
    return caught.value.by_field()


def _as_input(cur, user, **changes) -> UserInput:
    return replace(users.user_input(cur, user.id), **changes)


def _superiors(cur, user) -> tuple[int, ...]:
    return users.superior_ids(cur, user.id)


# --- adding ----------------------------------------------------------------------------------

def test_an_admin_adds_a_user_with_superiors(cur, now, admin, supervisor, password):
    new = users.create_user(cur, admin, now, " jonas ", UserInput(
        "Jonas Weber", " Jonas@Autohaus.example ", "seller", "Potsdam", (supervisor.id,)), password)
    assert (new.username, new.full_name, new.role, new.location, new.active) == (
        "jonas", "Jonas Weber", "seller", "Potsdam", True)
    assert new.email.lower() == "jonas@autohaus.example"
    assert _superiors(cur, new) == (supervisor.id,)
    assert auth.authenticate(cur, "jonas", password) == new
    action, detail = cur.execute("SELECT action, detail FROM audit_log WHERE entity_id = ? AND area = 'users'",
                                 [str(new.id)]).fetchall()[0]
    assert action == "add" and password not in detail


def test_a_manager_adds_users_but_no_admins(cur, now, manager, password):
    assert users.create_user(cur, manager, now, "lea", UserInput("Lea Roth", "lea@autohaus.example", "supervisor"),
                             password).role == "supervisor"
    with pytest.raises(PermissionDenied):
        users.create_user(cur, manager, now, "max", UserInput("Max Admin", "max@autohaus.example", "admin"), password)


@pytest.mark.parametrize("role", ["seller", "supervisor", "analyst"])
def test_other_roles_add_no_users(cur, now, request, role, password):
    with pytest.raises(PermissionDenied):
        users.create_user(cur, request.getfixturevalue(role), now, "lea",
                          UserInput("Lea Roth", "lea@autohaus.example", "seller"), password)


@pytest.mark.parametrize("data, field, message", [
    (UserInput("Lea Roth", "", "seller"), "email", "E-mail is required: escalations are sent there."),
    (UserInput("Lea Roth", "lea(at)autohaus", "seller"), "email", "E-mail is not a valid address."),
    (UserInput("  ", "lea@autohaus.example", "seller"), "full_name", "Name is required."),
    (UserInput("Lea Roth", "lea@autohaus.example", "boss"), "role",
     "Role must be one of: seller, supervisor, manager, analyst, admin."),
    (UserInput("Lea Roth", "lea@autohaus.example", "seller", "x" * 201), "location",
     "Location can have at most 200 characters."),
    (UserInput("Lea Roth", "lea@autohaus.example", "seller", "", (999,)), "superiors",
     "Superiors must be active users who work leads."),
])
def test_bad_new_users_name_the_field(cur, now, admin, password, count, data, field, message):
    before = count("users")
    with pytest.raises(ValidationErrors) as caught:
        users.create_user(cur, admin, now, "lea", data, password)
    assert _fields(caught) == {field: message}
    assert count("users") == before


# --- editing ---------------------------------------------------------------------------------

def test_editing_name_email_role_location_and_superiors(cur, now, admin, seller, supervisor, manager):
    changed = users.update_user(cur, admin, now, seller.id, UserInput(
        "Anna Becker-Klein", "anna.klein@autohaus.example", "supervisor", "Potsdam", (manager.id, supervisor.id)))
    assert (changed.full_name, changed.email, changed.role, changed.location) == (
        "Anna Becker-Klein", "anna.klein@autohaus.example", "supervisor", "Potsdam")
    assert _superiors(cur, seller) == tuple(sorted((manager.id, supervisor.id)))
    before, after = (json.loads(cur.execute(
        "SELECT detail FROM audit_log WHERE area = 'users' AND action = 'update'").fetchall()[0][0])[k]
        for k in ("before", "after"))
    assert before["full_name"] == "Anna Becker" and after["role"] == "supervisor"


def test_a_user_cannot_be_their_own_superior(cur, now, admin, seller, supervisor):
    with pytest.raises(ValidationErrors) as caught:
        users.update_user(cur, admin, now, seller.id, _as_input(cur, seller, superior_ids=(seller.id, supervisor.id)))
    assert _fields(caught) == {"superiors": "A user cannot be their own superior."}
    assert _superiors(cur, seller) == (supervisor.id,)


def test_superiors_form_no_circle_directly(cur, now, admin, seller, supervisor):
    # Anna reports to Clara; Clara reporting to Anna would close a circle.
    with pytest.raises(ValidationErrors) as caught:
        users.update_user(cur, admin, now, supervisor.id, _as_input(cur, supervisor, superior_ids=(seller.id,)))
    assert _fields(caught) == {"superiors": "Anna Becker reports to this user (directly or through others) and "
                                            "so cannot be their superior: superiors cannot form a circle."}
    assert _superiors(cur, supervisor) == ()


def test_superiors_form_no_circle_through_others(cur, now, admin, seller, supervisor, manager):
    users.update_user(cur, admin, now, supervisor.id, _as_input(cur, supervisor, superior_ids=(manager.id,)))
    # Anna -> Clara -> Dirk; Dirk reporting to Anna would be a circle of three.
    with pytest.raises(ValidationErrors) as caught:
        users.update_user(cur, admin, now, manager.id, _as_input(cur, manager, superior_ids=(seller.id,)))
    assert "cannot form a circle" in _fields(caught)["superiors"]
    # The same chain the other way round is fine: it only gets longer.
    users.update_user(cur, admin, now, seller.id, _as_input(cur, seller, superior_ids=(supervisor.id, manager.id)))


def test_replacing_a_superior_is_no_circle(cur, now, admin, seller, seller2, supervisor):
    # Ben reports to Clara like Anna; Ben may report to Anna instead (no one reports to Ben).
    users.update_user(cur, admin, now, seller2.id, _as_input(cur, seller2, superior_ids=(seller.id,)))
    assert _superiors(cur, seller2) == (seller.id,)


def test_an_analyst_or_inactive_user_is_no_superior(cur, now, admin, seller, analyst, seller2):
    for bad in (analyst.id, seller2.id):
        if bad == seller2.id:
            users.set_active(cur, admin, now, seller2.id, False)
        with pytest.raises(ValidationErrors) as caught:
            users.update_user(cur, admin, now, seller.id, _as_input(cur, seller, superior_ids=(bad,)))
        assert list(_fields(caught)) == ["superiors"]


def test_managers_edit_users_but_not_admins_and_make_no_admins(cur, now, manager, seller, admin):
    users.update_user(cur, manager, now, seller.id, _as_input(cur, seller, location="Potsdam"))
    with pytest.raises(PermissionDenied):
        users.update_user(cur, manager, now, seller.id, _as_input(cur, seller, role="admin"))
    with pytest.raises(PermissionDenied):
        users.update_user(cur, manager, now, admin.id, _as_input(cur, admin, full_name="Frank A."))
    with pytest.raises(PermissionDenied):
        users.update_user(cur, manager, now, manager.id, _as_input(cur, manager, role="admin"))
    assert auth.get_user(cur, seller.id).role == "seller"


@pytest.mark.parametrize("role", ["seller", "supervisor", "analyst"])
def test_other_roles_edit_no_users_not_even_themselves(cur, now, request, role, seller2):
    user = request.getfixturevalue(role)
    for target in (user, seller2):
        with pytest.raises(PermissionDenied):
            users.update_user(cur, user, now, target.id, _as_input(cur, target, full_name="X"))
        with pytest.raises(PermissionDenied):
            users.set_active(cur, user, now, target.id, False)


def test_the_last_active_admin_stays_admin(cur, now, admin):
    with pytest.raises(ValidationErrors) as caught:
        users.update_user(cur, admin, now, admin.id, _as_input(cur, admin, role="manager"))
    assert list(_fields(caught)) == ["role"]
    second = users.create_user(cur, admin, now, "gina", UserInput("Gina Admin", "gina@autohaus.example", "admin"),
                               "long enough")
    assert users.update_user(cur, admin, now, admin.id, _as_input(cur, admin, role="manager")).role == "manager"
    assert auth.get_user(cur, second.id).role == "admin"


# --- deactivating ----------------------------------------------------------------------------

def test_deactivated_users_cannot_sign_in_and_are_reactivated_not_deleted(cur, now, manager, seller, password, count):
    before = count("users")
    assert not users.set_active(cur, manager, now, seller.id, False).active
    assert auth.authenticate(cur, "anna", password) is None
    assert seller.id not in [u.id for u in users.possible_editors(cur)]
    assert count("users") == before
    assert users.set_active(cur, manager, now, seller.id, True).active
    assert auth.authenticate(cur, "anna", password) is not None
    actions = [r[0] for r in cur.execute(
        "SELECT action FROM audit_log WHERE area = 'users' AND entity_id = ? ORDER BY id", [str(seller.id)]).fetchall()]
    assert actions[-2:] == ["deactivate", "activate"]


def test_nobody_deactivates_themselves_or_the_last_admin(cur, now, admin, manager):
    with pytest.raises(ValidationErrors) as caught:
        users.set_active(cur, admin, now, admin.id, False)
    assert _fields(caught) == {"active": "You cannot deactivate your own account."}
    with pytest.raises(PermissionDenied):
        users.set_active(cur, manager, now, admin.id, False)


# --- passwords -------------------------------------------------------------------------------

def test_an_admin_resets_a_password(cur, now, admin, seller, password):
    users.reset_password(cur, admin, now, seller.id, "a brand new secret")
    assert auth.authenticate(cur, "anna", password) is None
    assert auth.authenticate(cur, "anna", "a brand new secret") is not None
    details = " ".join(r[0] for r in cur.execute("SELECT detail FROM audit_log").fetchall())
    assert "a brand new secret" not in details and "$argon2" not in details


def test_only_admins_reset_passwords_and_never_too_short(cur, now, admin, manager, seller, password):
    with pytest.raises(PermissionDenied):
        users.reset_password(cur, manager, now, seller.id, "a brand new secret")
    with pytest.raises(ValidationErrors) as caught:
        users.reset_password(cur, admin, now, seller.id, "short")
    assert _fields(caught) == {"password": "Password must have at least 8 characters."}
    assert auth.authenticate(cur, "anna", password) is not None
    with pytest.raises(NotFound):
        users.reset_password(cur, admin, now, 999, "a brand new secret")


# --- names -----------------------------------------------------------------------------------

@pytest.mark.parametrize("setting, shown", [("first_last", "Anna Becker"), ("last_first", "Becker, Anna"),
                                            ("username", "anna"), ("unknown", "Anna Becker")])
def test_display_name_follows_the_basic_setting(seller, setting, shown):
    assert auth.display_name(seller, setting) == shown


def test_display_name_of_a_single_name():
    one = auth.User(1, "cher", "Cher", "c@autohaus.example", "seller")
    assert auth.display_name(one, "last_first") == "Cher"


def test_the_user_overview_lists_superiors_by_name(cur, seller, seller2, supervisor, manager):
    rows = users.user_overview(cur, manager).set_index("username")
    assert rows.loc["anna", "superiors"] == "Clara Vogt"
    assert rows.loc["dirk", "superiors"] == ""


# --- absences --------------------------------------------------------------------------------

def test_everyone_enters_their_own_absence_with_a_deputy(cur, now, seller, seller2, analyst):
    absence = absences.add_absence(cur, seller, now, seller.id, TODAY, TODAY + timedelta(days=4),
                                   seller2.id, "  Holiday ")
    assert (absence.user_id, absence.starts_on, absence.ends_on, absence.deputy_id, absence.note) == (
        seller.id, TODAY, TODAY + timedelta(days=4), seller2.id, "Holiday")
    assert absences_of(cur, seller.id) == [absence]
    # An analyst is away now and then too (without deputy: they work no leads).
    absences.add_absence(cur, analyst, now, analyst.id, TODAY, TODAY)
    row = cur.execute("SELECT user_id, starts_on, ends_on, deputy_id, note FROM absences WHERE id = ?",
                      [absence.id]).fetchall()[0]
    assert row == (seller.id, TODAY, TODAY + timedelta(days=4), seller2.id, "Holiday")


def test_a_seller_enters_no_absence_for_someone_else_a_manager_does(cur, now, seller, seller2, manager):
    with pytest.raises(PermissionDenied):
        absences.add_absence(cur, seller, now, seller2.id, TODAY, TODAY, seller.id)
    absence = absences.add_absence(cur, manager, now, seller2.id, TODAY, TODAY, seller.id)
    with pytest.raises(PermissionDenied):
        absences.remove_absence(cur, seller, now, absence.id)
    absences.remove_absence(cur, seller2, now, absence.id)
    assert absences_of(cur) == []


@pytest.mark.parametrize("offsets, field, message", [
    ((None, 1), "starts_on", "First day is required."),
    ((1, None), "ends_on", "Last day is required."),
    ((3, 2), "ends_on", "The last day cannot be before the first day."),
    ((-5, -1), "ends_on", "The absence is over already; enter current or future absences."),
    ((0, 366), "ends_on", "An absence can last at most 366 days; enter a longer one in parts."),
])
def test_bad_absence_dates_name_the_field(cur, now, seller, offsets, field, message):
    first, last = (None if o is None else TODAY + timedelta(days=o) for o in offsets)
    with pytest.raises(ValidationErrors) as caught:
        absences.add_absence(cur, seller, now, seller.id, first, last)
    assert _fields(caught) == {field: message}


def test_a_started_absence_may_still_be_entered(cur, now, seller):
    assert absences.add_absence(cur, seller, now, seller.id, TODAY - timedelta(days=2), TODAY).starts_on \
        == TODAY - timedelta(days=2)


def test_absences_of_one_user_do_not_overlap(cur, now, seller):
    absences.add_absence(cur, seller, now, seller.id, date(2026, 12, 21), date(2026, 12, 31))
    with pytest.raises(ValidationErrors) as caught:
        absences.add_absence(cur, seller, now, seller.id, date(2026, 12, 31), date(2027, 1, 6))
    assert _fields(caught) == {"starts_on": "This overlaps the absence from 21.12.2026 to 31.12.2026; "
                                            "change or remove that one first."}
    absences.add_absence(cur, seller, now, seller.id, date(2027, 1, 1), date(2027, 1, 6))


def test_the_deputy_is_another_active_user_who_works_leads_and_is_there(cur, now, seller, seller2, analyst):
    cases = [(seller.id, "The deputy must be another user."),
             (analyst.id, "The deputy must be an active user who works leads."),
             (999, "The deputy must be an active user who works leads.")]
    for deputy, message in cases:
        with pytest.raises(ValidationErrors) as caught:
            absences.add_absence(cur, seller, now, seller.id, TODAY, TODAY + timedelta(days=1), deputy)
        assert _fields(caught) == {"deputy": message}
    absences.add_absence(cur, seller2, now, seller2.id, TODAY + timedelta(days=1), TODAY + timedelta(days=3))
    with pytest.raises(ValidationErrors) as caught:
        absences.add_absence(cur, seller, now, seller.id, TODAY, TODAY + timedelta(days=1), seller2.id)
    assert _fields(caught) == {"deputy": "The deputy is absent during this time too; choose another deputy."}
    cur.execute("UPDATE users SET active = FALSE WHERE id = ?", [seller2.id])
    with pytest.raises(ValidationErrors):
        absences.add_absence(cur, seller, now, seller.id, TODAY + timedelta(days=10), TODAY + timedelta(days=11),
                             seller2.id)


def test_absences_are_audited(cur, now, seller, seller2):
    absence = absences.add_absence(cur, seller, now, seller.id, TODAY, TODAY, seller2.id)
    absences.remove_absence(cur, seller, now, absence.id)
    assert cur.execute("SELECT user_id, action FROM audit_log WHERE area = 'absences' ORDER BY id").fetchall() == [
        (seller.id, "add"), (seller.id, "remove")]


def test_the_absence_table_shows_current_and_coming_ones_with_names(cur, now, seller, seller2, manager):
    absences.add_absence(cur, seller, now, seller.id, TODAY, TODAY + timedelta(days=1), seller2.id)
    cur.execute("INSERT INTO absences (user_id, starts_on, ends_on) VALUES (?, ?, ?)",
                [seller.id, date(2026, 1, 5), date(2026, 1, 9)])   # long over
    rows = absences.absence_table(cur, seller, now, seller.id)
    assert rows[["user_name", "deputy"]].values.tolist() == [["Anna Becker", "Ben Schulz"]]
    assert len(absences_of(cur, seller.id)) == 2
    assert len(absences_of(cur, seller.id, from_day=TODAY)) == 1


def test_a_sellers_phone_is_checked_normalised_and_shown_in_the_autoresponder(cur, now, admin, seller):
    from leadcore.mail import render as mail_render

    data = users.user_input(cur, seller.id)
    with pytest.raises(ValidationErrors) as error:
        users.update_user(cur, admin, now, seller.id, replace(data, phone="12"))
    assert error.value.by_field() == {"phone": "Phone is not a valid phone number."}
    users.update_user(cur, admin, now, seller.id, replace(data, phone="030 1234567"))
    assert users.user_input(cur, seller.id).phone == "+49301234567"
    assert mail_render._user_phone(cur, seller) == "030 1234567"
