"""Who may see and change which leads (SPEC section 2), as one SQL predicate per user.

Sellers see the leads they edit; supervisors also those of everyone reporting to them,
directly or through others; managers, admins and analysts see all (analysts never write).
"""
from __future__ import annotations

import duckdb

from leadcore.errors import PermissionDenied
from leadcore.i18n import _
from leadcore.users import User


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


def lead_predicate(cur: duckdb.DuckDBPyConnection, user: User, alias: str = "l") -> tuple[str, dict]:
    """SQL condition (named parameters) limiting leads to those `user` may see."""
    if user.sees_all_leads:
        return "TRUE", {}
    if user.role == "supervisor":
        return f"{alias}.editor_id IN (SELECT unnest($visible_editors::BIGINT[]))", {
            "visible_editors": team_ids(cur, user)}
    return f"{alias}.editor_id = $visible_editor", {"visible_editor": user.id}


def require_writer(user: User) -> None:
    if not user.can_write:
        raise PermissionDenied(_("Your role can read leads but not change them."))


def check_lead(cur: duckdb.DuckDBPyConnection, user: User, lead_id: int) -> bool:
    """True when the lead exists and `user` may see it."""
    where, params = lead_predicate(cur, user)
    return bool(cur.execute(
        f"SELECT 1 FROM leads l WHERE l.id = $lead AND {where}", {"lead": lead_id, **params}
    ).fetchall())
