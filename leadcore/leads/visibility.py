"""Who may see and change which leads (SPEC section 2), as one SQL predicate per user.

Sellers see the leads they edit; supervisors also those of everyone reporting to them,
directly or through others; managers, admins and analysts see all (analysts never write).
A user who is the deputy of an absent colleague sees and works that colleague's leads for
the days of the absence.
"""
from __future__ import annotations

from datetime import datetime

import duckdb

from leadcore import auth, roles
from leadcore.admin import settings
from leadcore.auth import User
from leadcore.errors import NotFound, PermissionDenied
from leadcore.i18n import _


def team_ids(cur: duckdb.DuckDBPyConnection, user: User) -> list[int]:
    """The user and everyone who reports to them, transitively (cycles are harmless here)."""
    rows = cur.execute(
        """
        WITH RECURSIVE team(id) AS (
            SELECT ?::BIGINT
            UNION
            SELECT s.user_id FROM user_superiors s JOIN team t ON s.superior_id = t.id
        )
        SELECT id FROM team
        """,
        [user.id],
    ).fetchall()
    return sorted(r[0] for r in rows)


def deputised_ids(cur: duckdb.DuckDBPyConnection, user: User, now: datetime) -> list[int]:
    """Colleagues absent on `now`'s local date who named `user` as their deputy."""
    today = now.astimezone(settings.timezone(cur)).date()
    rows = cur.execute(
        "SELECT DISTINCT user_id FROM absences WHERE deputy_id = ? AND ? BETWEEN starts_on AND ends_on",
        [user.id, today],
    ).fetchall()
    return [r[0] for r in rows]


def lead_predicate(cur: duckdb.DuckDBPyConnection, user: User, now: datetime | None = None,
                   alias: str = "l") -> tuple[str, dict]:
    """SQL condition (named parameters) limiting leads to those `user` may see.

    With `now`, leads of absent colleagues handed to the user as deputy are included. The user
    is read again first: whoever was deactivated since the page loaded sees nothing, and a
    demotion narrows the view at once.
    """
    user = auth.acting(cur, user)
    if roles.allows(user.role, roles.SEE_ALL_LEADS):
        return "TRUE", {}
    editors = team_ids(cur, user) if roles.allows(user.role, roles.SEE_TEAM_LEADS) else [user.id]
    if now is not None:
        editors = sorted(set(editors) | set(deputised_ids(cur, user, now)))
    if len(editors) == 1:
        # The common seller case: a plain equality keeps the list query as fast as a manager's.
        return f"{alias}.editor_id = $visible_editor", {"visible_editor": editors[0]}
    return f"{alias}.editor_id IN (SELECT unnest($visible_editors::BIGINT[]))", {"visible_editors": editors}


def require_writer(user: User) -> None:
    """The role works leads and the account is active (the caller passes a freshly read user)."""
    roles.require(user, roles.WORK_LEADS)


def check_lead(cur: duckdb.DuckDBPyConnection, user: User, lead_id: int,
               now: datetime | None = None) -> bool:
    """True when the lead exists and `user` may see it."""
    where, params = lead_predicate(cur, user, now)
    return bool(cur.execute(
        f"SELECT 1 FROM leads l WHERE l.id = $lead AND {where}", {"lead": lead_id, **params}
    ).fetchall())


def require_visible(cur: duckdb.DuckDBPyConnection, user: User, lead_id: int,
                     now: datetime | None) -> None:
    if not check_lead(cur, user, lead_id, now):
        if cur.execute("SELECT 1 FROM leads WHERE id = ?", [lead_id]).fetchall():
            raise PermissionDenied(_("You may not see this lead."))
        raise NotFound(_("This lead does not exist."))
