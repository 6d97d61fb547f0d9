"""Who is acting: the signed-in user (re-read from the database inside every unit of work), the
system actor of the command line, the scheduler and intake, and checking a password (argon2).
Signing in, with its throttling, is leadcore.sign_in's job."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from leadcore import hygiene, roles
from leadcore.errors import NotFound, PermissionDenied
from leadcore.i18n import _

_hasher = PasswordHasher()
# Verifying against this keeps a wrong username as slow as a wrong password (no timing hint).
_DUMMY_HASH = _hasher.hash("not a real password")
COLUMNS = "id, username, full_name, email, role, location, active, language"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    full_name: str
    email: str
    role: str
    location: str | None = None
    active: bool = True
    language: str | None = None   # None: the dealership's default language

    @property
    def can_write(self) -> bool:
        return roles.allows(self.role, roles.WORK_LEADS)

    @property
    def sees_all_leads(self) -> bool:
        return roles.allows(self.role, roles.SEE_ALL_LEADS)


@dataclass(frozen=True)
class SystemActor:
    """leadcore itself acting: the scheduler, intake from the folder and the command line (whoever
    runs it owns the machine). Audit rows and events show it as "leadcore" (user_id NULL)."""
    id: None = None
    username: str = "leadcore"
    full_name: str = "leadcore"
    role: str = "system"
    active: bool = True


SYSTEM = SystemActor()
Actor = User | SystemActor


def row_to_user(row: tuple) -> User:
    return User(*row)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def get_user(cur: duckdb.DuckDBPyConnection, user_id: int) -> User:
    rows = hygiene.valid_id(user_id) and cur.execute(
        f"SELECT {COLUMNS} FROM users WHERE id = ?", [user_id]).fetchall()
    if not rows:
        raise NotFound(_("This user does not exist."))
    return row_to_user(rows[0])


def acting(cur: duckdb.DuckDBPyConnection, actor: Actor, capability: str | None = None) -> Actor:
    """The acting user as stored now, read on the unit of work's own cursor: a user deactivated
    or demoted since the page loaded is refused at once, not at their next sign-in. With a
    capability, the role must have it (roles.REFUSALS says why not)."""
    if isinstance(actor, SystemActor):
        return actor
    if not isinstance(actor, User):
        raise PermissionDenied(_("Sign in first."))
    rows = cur.execute(f"SELECT {COLUMNS} FROM users WHERE id = ?", [actor.id]).fetchall()
    user = row_to_user(rows[0]) if rows else None
    # Either side saying "deactivated" is enough: the row is the truth from now on, and an
    # object already marked inactive was never meant to act.
    if user is None or not user.active or not actor.active:
        raise PermissionDenied(_("Your account is deactivated; ask an admin to activate it again."))
    if capability is not None:
        roles.require(user, capability)
    return user


def display_name(user: User, setting: str = "first_last") -> str:
    """The user's name as the basic setting `user_name_display` wants it in lists."""
    if setting == "username":
        return user.username
    if setting == "last_first":
        first, _space, last = user.full_name.strip().rpartition(" ")
        return f"{last}, {first}" if first else last
    return user.full_name


def authenticate(cur: duckdb.DuckDBPyConnection, username: str, password: str) -> User | None:
    """The user for these credentials, or None. Callers say only that sign-in failed."""
    rows = cur.execute(
        f"SELECT {COLUMNS}, password_hash FROM users WHERE lower(username) = lower(?) AND active",
        [username.strip()],
    ).fetchall()
    stored = rows[0][-1] if rows else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return row_to_user(rows[0][:-1]) if rows else None
