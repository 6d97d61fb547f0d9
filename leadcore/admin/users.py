"""The administration of accounts: add, edit, (de)activate (never delete), superiors without
cycles, and the admin's password reset. Each change is audited in its own transaction.
Who a user is and signing in live in leadcore.auth; what a role may do in leadcore.roles.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd
from email_validator import EmailNotValidError, validate_email

from leadcore import audit, auth, db, hygiene, roles
from leadcore.auth import COLUMNS as _COLUMNS
from leadcore.auth import SYSTEM, Actor, User, get_user, hash_password
from leadcore.auth import row_to_user as _user
from leadcore.contacts.service import normalise_phone
from leadcore.errors import PermissionDenied, ValidationError, ValidationErrors
from leadcore.i18n import LANGUAGES, _
from leadcore.roles import ROLES


@dataclass(frozen=True)
class UserInput:
    """What the user form edits (the username is fixed once created)."""
    full_name: str
    email: str
    role: str
    location: str = ""
    superior_ids: tuple[int, ...] = ()
    phone: str = ""        # E.164 once checked; the autoresponder's footer shows it to customers


FIELD_LIMIT = 200
PASSWORD_MIN = 8


def _check_password(errors: list, password: str) -> None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        errors.append(ValidationError("password", _("Password must have at least 8 characters.")))


def _has(errors: list, field: str) -> bool:
    return any(e.field == field for e in errors)


def _check_profile(errors: list, data: UserInput) -> UserInput:
    """Trimmed and normalised input; appends an error per bad field."""
    full_name = hygiene.check_text(errors, "full_name", _("Name"), data.full_name, required=True,
                                   limit=FIELD_LIMIT)
    location = hygiene.check_text(errors, "location", _("Location"), data.location, limit=FIELD_LIMIT)
    email = hygiene.check_text(errors, "email", _("E-mail"), data.email)
    if not email:
        errors.append(ValidationError("email", _("E-mail is required: escalations are sent there.")))
    elif not _has(errors, "email"):
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors.append(ValidationError("email", _("E-mail is not a valid address.")))
    if data.role not in ROLES:
        errors.append(ValidationError("role", _("Role must be one of: {roles}.").format(
            roles=", ".join(ROLES))))
    phone = hygiene.check_text(errors, "phone", _("Phone"), data.phone)
    if phone and not _has(errors, "phone"):
        try:
            phone = normalise_phone(phone)
        except ValueError:
            errors.append(ValidationError("phone", _("Phone is not a valid phone number.")))
    return UserInput(full_name, email, data.role, location, tuple(dict.fromkeys(data.superior_ids)),
                     phone)


def _check_superiors(cur: duckdb.DuckDBPyConnection, errors: list, user_id: int | None,
                     superior_ids: tuple[int, ...]) -> None:
    """Superiors are other active users who work leads, and no chain of superiors is a circle."""
    if user_id is not None and user_id in superior_ids:
        errors.append(ValidationError("superiors", _("A user cannot be their own superior.")))
        return
    if not superior_ids:
        return
    if not hygiene.valid_ids(superior_ids):
        errors.append(ValidationError("superiors", _("Superiors must be active users who work leads.")))
        return
    names = dict(cur.execute(
        "SELECT id, full_name FROM users WHERE id IN (SELECT unnest(?::BIGINT[])) AND active"
        " AND role <> 'analyst'", [list(superior_ids)]).fetchall())
    if set(superior_ids) - set(names):
        errors.append(ValidationError("superiors", _("Superiors must be active users who work leads.")))
        return
    if user_id is None:
        return   # a new user has nobody reporting to them yet
    for superior_id in superior_ids:
        # Walk up from the proposed superior; meeting the user again would close a circle.
        above = cur.execute(
            """
            WITH RECURSIVE above(id) AS (
                SELECT $superior::BIGINT
                UNION
                SELECT s.superior_id FROM user_superiors s JOIN above a ON s.user_id = a.id
                WHERE s.user_id <> $user
            )
            SELECT 1 FROM above WHERE id = $user
            """, {"superior": superior_id, "user": user_id}).fetchall()
        if above:
            errors.append(ValidationError("superiors", _(
                "{name} reports to this user (directly or through others) and so cannot be their "
                "superior: superiors cannot form a circle.").format(name=names[superior_id])))
            return


def _require_user_admin(cur: duckdb.DuckDBPyConnection, actor: Actor | None, target_role: str | None,
                        new_role: str | None) -> Actor:
    """The acting user as stored now. Admins manage every account; managers all but admins'
    (and they cannot make admins); the system actor (command line) all."""
    actor = auth.acting(cur, SYSTEM if actor is None else actor)
    if not roles.can(actor, roles.EDIT_SETTINGS):
        raise PermissionDenied(_("Only managers and admins may manage users."))
    if not roles.can(actor, roles.MANAGE_ADMINS) and "admin" in (target_role, new_role):
        raise PermissionDenied(_("Only admins may manage admin accounts."))
    return actor


def _taken(username: str) -> ValidationErrors:
    return ValidationErrors([ValidationError("username", _("The username {name} is taken.").format(name=username))])


def _audit(cur: duckdb.DuckDBPyConnection, actor: User | None, now: datetime, entity_id: int,
           action: str, before: object, after: object) -> None:
    audit.record(cur, actor, now, "users", entity_id, action, before, after)


def create_user(cur: duckdb.DuckDBPyConnection, actor: Actor | None, now: datetime, username: str,
                data: UserInput, password: str) -> User:
    """Add an account; `actor` None is the command line (auth.SYSTEM)."""
    hashed = hash_password(password) if isinstance(password, str) else ""   # slow: outside the writer turn

    def work(c: duckdb.DuckDBPyConnection) -> int:
        acting = _require_user_admin(c, actor, None, data.role)
        errors: list[ValidationError] = []
        name = hygiene.check_text(errors, "username", _("Username"), username, required=True, limit=FIELD_LIMIT)
        clean = _check_profile(errors, data)
        _check_password(errors, password)
        _check_superiors(c, errors, None, clean.superior_ids)
        hygiene.raise_if(errors)
        if c.execute("SELECT 1 FROM users WHERE lower(username) = lower(?)", [name]).fetchall():
            raise _taken(name)
        try:
            new_id = c.execute(
                "INSERT INTO users (username, full_name, email, role, password_hash, location, phone,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [name, clean.full_name, clean.email, clean.role, hashed, clean.location or None,
                 clean.phone or None, now],
            ).fetchall()[0][0]
        except db.IntegrityError:
            raise _taken(name) from None   # usernames are unique without regard to case (0011)
        for superior in clean.superior_ids:
            c.execute("INSERT INTO user_superiors VALUES (?, ?)", [new_id, superior])
        _audit(c, acting, now, new_id, "add", None, {"username": name, **_plain(clean)})
        return new_id

    return get_user(cur, db.write(cur, work))


def add_user(cur: duckdb.DuckDBPyConnection, now: datetime, username: str, full_name: str,
             email: str, role: str, password: str, location: str | None = None,
             superiors: list[int] | None = None) -> User:
    """Create a user from the command line (no acting user; `create_user` for the app)."""
    return create_user(cur, SYSTEM, now, username,
                       UserInput(full_name, email, role, location or "", tuple(superiors or ())), password)


def _plain(data: UserInput) -> dict:
    return {"full_name": data.full_name, "email": data.email, "role": data.role,
            "location": data.location, "superior_ids": sorted(data.superior_ids), "phone": data.phone}


def superior_ids(cur: duckdb.DuckDBPyConnection, user_id: int) -> tuple[int, ...]:
    return tuple(r[0] for r in cur.execute(
        "SELECT superior_id FROM user_superiors WHERE user_id = ? ORDER BY superior_id", [user_id]).fetchall())


def user_input(cur: duckdb.DuckDBPyConnection, user_id: int) -> UserInput:
    """The user's editable data as stored (what the edit form starts from)."""
    user = get_user(cur, user_id)
    phone = cur.execute("SELECT coalesce(phone, '') FROM users WHERE id = ?", [user_id]).fetchall()[0][0]
    return UserInput(user.full_name, user.email, user.role, user.location or "", superior_ids(cur, user_id),
                     phone)


def _other_active_admins(cur: duckdb.DuckDBPyConnection, user_id: int) -> int:
    return cur.execute("SELECT count(*) FROM users WHERE role = 'admin' AND active AND id <> ?",
                       [user_id]).fetchall()[0][0]


def update_user(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, user_id: int,
                data: UserInput) -> User:
    """Change name, e-mail, role, location and superiors of an account."""
    def work(c: duckdb.DuckDBPyConnection) -> User:
        target = get_user(c, user_id)
        acting = _require_user_admin(c, actor, target.role, data.role)
        errors: list[ValidationError] = []
        clean = _check_profile(errors, data)
        _check_superiors(c, errors, user_id, clean.superior_ids)
        if target.role == "admin" and clean.role != "admin" and target.active \
                and not _other_active_admins(c, user_id):
            errors.append(ValidationError("role", _("This is the last active admin; make another user "
                                                    "admin first.")))
        hygiene.raise_if(errors)
        before = user_input(c, user_id)
        if before == clean:
            return target
        c.execute("UPDATE users SET full_name = ?, email = ?, role = ?, location = ?, phone = ? WHERE id = ?",
                  [clean.full_name, clean.email, clean.role, clean.location or None, clean.phone or None,
                   user_id])
        if before.superior_ids != clean.superior_ids:
            c.execute("DELETE FROM user_superiors WHERE user_id = ?", [user_id])
            for superior in clean.superior_ids:
                c.execute("INSERT INTO user_superiors VALUES (?, ?)", [user_id, superior])
        _audit(c, acting, now, user_id, "update", _plain(before), _plain(clean))
        return get_user(c, user_id)

    return db.write(cur, work)


def set_active(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, user_id: int,
               active: bool) -> User:
    """Deactivate (the account can no longer sign in or get leads) or reactivate; never delete."""
    def work(c: duckdb.DuckDBPyConnection) -> User:
        target = get_user(c, user_id)
        acting = _require_user_admin(c, actor, target.role, None)
        if target.active == active:
            return target
        if not active:
            if acting.id == user_id:
                raise ValidationErrors([ValidationError("active", _("You cannot deactivate your own account."))])
            if target.role == "admin" and not _other_active_admins(c, user_id):
                raise ValidationErrors([ValidationError("active", _(
                    "This is the last active admin and cannot be deactivated."))])
        c.execute("UPDATE users SET active = ? WHERE id = ?", [active, user_id])
        _audit(c, acting, now, user_id, "activate" if active else "deactivate",
               {"active": target.active}, {"active": active})
        return get_user(c, user_id)

    return db.write(cur, work)


def reset_password(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, user_id: int,
                   new_password: str) -> None:
    """An admin sets a new password for an account (the audit says that, never the password)."""
    hashed = hash_password(new_password) if isinstance(new_password, str) else ""

    def work(c: duckdb.DuckDBPyConnection) -> None:
        acting = auth.acting(c, actor)
        if acting.role not in ("admin", "system"):
            raise PermissionDenied(_("Only admins may reset passwords."))
        target = get_user(c, user_id)
        errors: list[ValidationError] = []
        _check_password(errors, new_password)
        hygiene.raise_if(errors)
        c.execute("UPDATE users SET password_hash = ? WHERE id = ?", [hashed, user_id])
        _audit(c, acting, now, user_id, "reset_password", None, {"username": target.username})

    db.write(cur, work)


def user_overview(cur: duckdb.DuckDBPyConnection, actor: Actor) -> pd.DataFrame:
    """Every account with the names of its superiors, for the Users settings list (for those
    who manage users: it lists everyone's e-mail address)."""
    auth.acting(cur, actor, roles.EDIT_SETTINGS)
    return cur.execute(
        """
        SELECT u.id, u.username, u.full_name, u.email, u.role, coalesce(u.location, '') AS location,
               u.active,
               coalesce(string_agg(s.full_name, ', ' ORDER BY s.full_name), '') AS superiors
        FROM users u
        LEFT JOIN user_superiors us ON us.user_id = u.id
        LEFT JOIN users s ON s.id = us.superior_id
        GROUP BY u.id, u.username, u.full_name, u.email, u.role, u.location, u.active
        ORDER BY u.active DESC, u.full_name
        """).df()


def possible_editors(cur: duckdb.DuckDBPyConnection) -> list[User]:
    """Users who may be made editor of a lead: active, and not analysts (they only read)."""
    rows = cur.execute(
        f"SELECT {_COLUMNS} FROM users WHERE active AND role <> 'analyst' ORDER BY full_name"
    ).fetchall()
    return [_user(r) for r in rows]


def all_users(cur: duckdb.DuckDBPyConnection) -> list[User]:
    return [_user(r) for r in cur.execute(f"SELECT {_COLUMNS} FROM users ORDER BY full_name").fetchall()]




def set_language(cur: duckdb.DuckDBPyConnection, actor: User, now: datetime, language: str | None) -> User:
    """A user's own language ("My settings"); None follows the dealership's default."""
    if language is not None and language not in LANGUAGES:
        raise ValidationErrors([ValidationError("language", _("Choose one of the offered languages."))])

    def work(c: duckdb.DuckDBPyConnection) -> None:
        acting = auth.acting(c, actor)         # one's own language: any active user
        c.execute("UPDATE users SET language = ? WHERE id = ?", [language, acting.id])
        _audit(c, acting, now, acting.id, "update", {"language": acting.language}, {"language": language})

    db.write(cur, work)
    return get_user(cur, actor.id)
