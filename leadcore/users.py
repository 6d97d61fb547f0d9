"""Users, their roles and superiors, and signing in (argon2-hashed passwords)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from leadcore import db
from leadcore.errors import NotFound, ValidationError, ValidationErrors
from leadcore.i18n import _

ROLES = ("seller", "supervisor", "manager", "analyst", "admin")
_hasher = PasswordHasher()
# Verifying against this keeps a wrong username as slow as a wrong password (no timing hint).
_DUMMY_HASH = _hasher.hash("not a real password")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    full_name: str
    email: str
    role: str
    location: str | None = None
    active: bool = True

    @property
    def can_write(self) -> bool:
        return self.role != "analyst"

    @property
    def sees_all_leads(self) -> bool:
        return self.role in ("manager", "admin", "analyst")


_COLUMNS = "id, username, full_name, email, role, location, active"


def _user(row: tuple) -> User:
    return User(*row)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user(cur: duckdb.DuckDBPyConnection, now: datetime, username: str, full_name: str,
             email: str, role: str, password: str, location: str | None = None,
             superiors: list[int] | None = None) -> User:
    """Create a user (admin work and the CLI's `user add`)."""
    username = username.strip()
    errors = []
    if not username:
        errors.append(ValidationError("username", _("Username is required.")))
    if not full_name.strip():
        errors.append(ValidationError("full_name", _("Name is required.")))
    if role not in ROLES:
        errors.append(ValidationError("role", _("Role must be one of: {roles}.").format(
            roles=", ".join(ROLES))))
    if len(password) < 8:
        errors.append(ValidationError("password", _("Password must have at least 8 characters.")))
    if errors:
        raise ValidationErrors(errors)
    if cur.execute("SELECT 1 FROM users WHERE lower(username) = lower(?)", [username]).fetchall():
        raise ValidationErrors([ValidationError(
            "username", _("The username {name} is taken.").format(name=username))])

    def work(c: duckdb.DuckDBPyConnection) -> int:
        new_id = c.execute(
            "INSERT INTO users (username, full_name, email, role, password_hash, location, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [username, full_name.strip(), email.strip(), role, hash_password(password), location, now],
        ).fetchall()[0][0]
        for superior in superiors or []:
            c.execute("INSERT INTO user_superiors VALUES (?, ?)", [new_id, superior])
        return new_id

    return get_user(cur, db.write(cur, work))


def get_user(cur: duckdb.DuckDBPyConnection, user_id: int) -> User:
    rows = cur.execute(f"SELECT {_COLUMNS} FROM users WHERE id = ?", [user_id]).fetchall()
    if not rows:
        raise NotFound(_("This user does not exist."))
    return _user(rows[0])


def active_users(cur: duckdb.DuckDBPyConnection) -> list[User]:
    """Users who may be made editor of a lead (not analysts: they only read)."""
    rows = cur.execute(
        f"SELECT {_COLUMNS} FROM users WHERE active AND role <> 'analyst' ORDER BY full_name"
    ).fetchall()
    return [_user(r) for r in rows]


def all_users(cur: duckdb.DuckDBPyConnection) -> list[User]:
    return [_user(r) for r in cur.execute(f"SELECT {_COLUMNS} FROM users ORDER BY full_name").fetchall()]


def authenticate(cur: duckdb.DuckDBPyConnection, username: str, password: str) -> User | None:
    """The user for these credentials, or None. Callers say only that sign-in failed."""
    rows = cur.execute(
        f"SELECT {_COLUMNS}, password_hash FROM users WHERE lower(username) = lower(?) AND active",
        [username.strip()],
    ).fetchall()
    stored = rows[0][-1] if rows else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return _user(rows[0][:-1]) if rows else None
