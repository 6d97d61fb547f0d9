"""The Users settings tab: the accounts, adding one, editing, (de)activating, the admin's
password reset, and the chosen user's absences."""
from __future__ import annotations

import streamlit as st

from leadcore import auth, roles, sign_in
from leadcore.admin import users
from leadcore.contacts.service import format_phone
from leadcore.i18n import N_, _
from leadcore.ui import actions, session
from leadcore.ui import format as fmt
from leadcore.ui.absence_form import absences_panel
from leadcore.ui.fields import field_error

ROLE_LABELS = {"seller": N_("Seller"), "supervisor": N_("Supervisor"), "manager": N_("Manager"),
               "analyst": N_("Analyst"), "admin": N_("Admin")}
_PROFILE = ("full_name", "email", "phone", "role", "location", "superiors")
_ADD = "user_add"


def _role(code: str) -> str:
    return _(ROLE_LABELS.get(code, code))


def _roles_for(actor: auth.User) -> list[str]:
    """Managers manage every account but admins'; they cannot make admins either."""
    return [r for r in roles.ROLES if roles.can(actor, roles.MANAGE_ADMINS) or r != "admin"]


def users_tab() -> None:
    cur, actor = session.cursor(), session.require_user()
    overview = users.user_overview(cur, session.require_user())
    st.dataframe(overview.assign(role=overview["role"].map(_role)), hide_index=True, key="users_table",
                 column_order=["username", "full_name", "email", "role", "location", "superiors", "active"],
                 column_config={"username": st.column_config.TextColumn(_("Username")),
                                "full_name": st.column_config.TextColumn(_("Name")),
                                "email": st.column_config.TextColumn(_("E-mail")),
                                "role": st.column_config.TextColumn(_("Role")),
                                "location": st.column_config.TextColumn(_("Location")),
                                "superiors": st.column_config.TextColumn(_("Superiors")),
                                "active": st.column_config.CheckboxColumn(_("Active"))})
    superiors = {u.id: u.full_name for u in users.possible_editors(cur)}
    with st.expander(_("Add a user"), icon=":material/person_add:",
                     expanded=bool(actions.errors(_ADD))):
        _add_form(actor, superiors)
    actions.outcome(_ADD, ("username", "password", *_PROFILE))
    everyone = dict(zip(overview["id"].astype(int), overview["full_name"]))
    st.markdown("#### " + _("Change a user"))
    user_id = st.selectbox(_("User to change"), list(everyone), format_func=everyone.get,
                           key="user_edit_id", index=None, placeholder=_("Choose a user"))
    if user_id is not None:
        _edit_user(actor, auth.get_user(cur, user_id), superiors)


def _profile_fields(prefix: str, errors: dict[str, str], roles: list[str],
                    superiors: dict[int, str]) -> None:
    st.text_input(_("Name"), key=f"{prefix}_full_name")
    field_error(errors, "full_name")
    email, phone = st.columns(2)
    with email:
        st.text_input(_("E-mail"), key=f"{prefix}_email")
        field_error(errors, "email")
    with phone:
        st.text_input(_("Phone"), key=f"{prefix}_phone",
                      help=_("Shown to customers in the autoresponder's seller block."))
        field_error(errors, "phone")
    role, location = st.columns(2)
    role.selectbox(_("Role"), roles, format_func=_role, key=f"{prefix}_role")
    location.text_input(_("Location"), key=f"{prefix}_location")
    field_error(errors, "role")
    field_error(errors, "location")
    st.multiselect(_("Superiors"), list(superiors), format_func=superiors.get, key=f"{prefix}_superiors", placeholder=_("No superiors"),
                   help=_("They receive the stage-2 escalations of this user's leads."))
    field_error(errors, "superiors")


def _profile_input(prefix: str) -> users.UserInput:
    state = st.session_state
    return users.UserInput(state.get(f"{prefix}_full_name") or "", state.get(f"{prefix}_email") or "",
                           state.get(f"{prefix}_role") or "", state.get(f"{prefix}_location") or "",
                           tuple(state.get(f"{prefix}_superiors") or ()), state.get(f"{prefix}_phone") or "")


def _add_form(actor: auth.User, superiors: dict[int, str]) -> None:
    errors = actions.errors(_ADD)
    actions.seed({f"{_ADD}_role": "seller"})
    with st.form(f"{_ADD}_form"):
        st.text_input(_("Username"), key=f"{_ADD}_username")
        field_error(errors, "username")
        _profile_fields(_ADD, errors, _roles_for(actor), superiors)
        st.text_input(_("Initial password"), type="password", key=f"{_ADD}_password",
                      help=_("At least 8 characters; tell it to the user in person."))
        field_error(errors, "password")
        st.form_submit_button(_("Add user"), type="primary", on_click=_add)


def _add() -> None:
    state = st.session_state
    actions.run(_ADD, lambda: users.create_user(
        session.cursor(), session.require_user(), session.now(), state.get(f"{_ADD}_username") or "",
        _profile_input(_ADD), state.get(f"{_ADD}_password") or ""),
        lambda u: _("User {name} added.").format(name=fmt.md_escape(u.username)),
        forget=[k for k in state if str(k).startswith(f"{_ADD}_")])


def _edit_user(actor: auth.User, target: auth.User, superiors: dict[int, str]) -> None:
    prefix = f"user_{target.id}"
    if not roles.can(actor, roles.MANAGE_ADMINS) and target.role == "admin":
        st.info(_("Only admins may change admin accounts."), icon=":material/lock:")
        return
    stored = users.user_input(session.cursor(), target.id)
    others = {k: v for k, v in superiors.items() if k != target.id}
    # A deactivated superior is no longer offered (and no longer receives escalations).
    actions.seed({f"{prefix}_{name}": format_phone(value) if name == "phone" else value
                  for name, value in vars(stored).items() if name != "superior_ids"}
                 | {f"{prefix}_superiors": [i for i in stored.superior_ids if i in others]})
    errors = actions.errors(prefix)
    profile, extra = st.columns([3, 2])
    with profile, st.form(f"{prefix}_form"):
        st.caption(_("Username: {name}").format(name=fmt.md_escape(target.username)))
        _profile_fields(prefix, errors, _roles_for(actor), others)
        st.form_submit_button(_("Save user"), type="primary", on_click=_save, args=(target.id,))
    with extra:
        if target.active:
            st.button(_("Deactivate"), key=f"{prefix}_deactivate", icon=":material/person_off:",
                      on_click=_set_active, args=(target.id, False),
                      help=_("The account can no longer sign in; its leads and history stay."))
        else:
            st.warning(_("This account is deactivated."), icon=":material/person_off:")
            st.button(_("Reactivate"), key=f"{prefix}_reactivate", icon=":material/person:",
                      on_click=_set_active, args=(target.id, True))
        field_error(errors, "active")
        if target.username.lower() in sign_in.locked_usernames(session.cursor()):
            _locked(actor, target)
        if roles.can(actor, roles.MANAGE_ADMINS):
            with st.form(f"{prefix}_password_form"):
                st.text_input(_("New password"), type="password", key=f"{prefix}_password")
                field_error(errors, "password")
                st.form_submit_button(_("Reset password"), on_click=_reset_password, args=(target.id,))
    actions.outcome(prefix, (*_PROFILE, "active", "password"))
    st.markdown("**" + _("Absences of {name}").format(name=fmt.md_escape(target.full_name)) + "**")
    absences_panel(target.id, key=f"{prefix}_absence")


def _locked(actor: auth.User, target: auth.User) -> None:
    """A username locked by sign-in throttling, and (for admins) the way back in."""
    st.warning(_("Locked after too many failed sign-ins."), icon=":material/lock:")
    if roles.can(actor, roles.MANAGE_ADMINS):
        st.button(_("Unlock sign-in"), key=f"user_{target.id}_unlock", icon=":material/lock_open:",
                  on_click=_unlock, args=(target.id, target.username))


def _unlock(user_id: int, username: str) -> None:
    actions.run(f"user_{user_id}", lambda: sign_in.unlock(
        session.cursor(), session.acting_user(), session.now(), username),
        _("{name} can sign in again.").format(name=fmt.md_escape(username)))


def _save(user_id: int) -> None:
    prefix = f"user_{user_id}"
    actions.run(prefix, lambda: users.update_user(
        session.cursor(), session.require_user(), session.now(), user_id, _profile_input(prefix)),
        lambda u: _("User {name} saved.").format(name=fmt.md_escape(u.username)))


def _set_active(user_id: int, active: bool) -> None:
    actions.run(f"user_{user_id}", lambda: users.set_active(
        session.cursor(), session.require_user(), session.now(), user_id, active),
        lambda u: (_("User {name} reactivated.") if active else _("User {name} deactivated.")).format(
            name=fmt.md_escape(u.username)))


def _reset_password(user_id: int) -> None:
    prefix = f"user_{user_id}"
    actions.run(prefix, lambda: users.reset_password(
        session.cursor(), session.require_user(), session.now(), user_id,
        st.session_state.get(f"{prefix}_password") or ""),
        _("Password reset. Tell the user the new password in person."), forget=[f"{prefix}_password"])
