"""A user's notifications (reminders, stage 1, stage 2): count, list, mark as read."""
from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from leadcore.contacts.service import customer_name_sql
from leadcore import auth, db, hygiene, roles
from leadcore.i18n import N_
from leadcore.auth import User

STAGE_LABELS = {
    "reminder": N_("Reminder: due soon"),
    "stage1": N_("Stage 1: overdue"),
    "stage2": N_("Stage 2: escalated to you"),
}


def unread_count(cur: duckdb.DuckDBPyConnection, user: User) -> int:
    auth.acting(cur, user)
    return cur.execute(
        "SELECT count(*) FROM notifications WHERE recipient_id = ? AND read_at IS NULL", [user.id]
    ).fetchall()[0][0]


def list_notifications(cur: duckdb.DuckDBPyConnection, user: User, unread_only: bool = False,
                       limit: int = 200) -> pd.DataFrame:
    """The user's newest notifications with the lead they are about (only ever their own)."""
    auth.acting(cur, user)
    return cur.execute(
        f"""
        SELECT n.id, n.lead_id, n.stage, n.created_at, n.read_at, l.subject,
               {customer_name_sql("c")} AS customer,
               l.editor_id, u.full_name AS editor, l.due_at, l.status
        FROM notifications n
        JOIN leads l ON l.id = n.lead_id
        JOIN contacts c ON c.id = l.contact_id
        JOIN users u ON u.id = l.editor_id
        WHERE n.recipient_id = ? {"AND n.read_at IS NULL" if unread_only else ""}
        ORDER BY n.created_at DESC, n.id DESC
        LIMIT {int(limit)}
        """,
        [user.id],
    ).df()


def mark_read(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
              notification_ids: list[int] | None = None) -> int:
    """Mark the given (or all) unread notifications of `user` as read; returns how many."""
    def work(c: duckdb.DuckDBPyConnection) -> int:
        auth.acting(c, user, roles.NOTIFICATIONS)
        if notification_ids is None:
            return c.execute(
                "UPDATE notifications SET read_at = ? WHERE recipient_id = ? AND read_at IS NULL",
                [now, user.id]).fetchall()[0][0]
        if not hygiene.valid_ids(notification_ids):
            return 0          # no notification has such an id
        return c.execute(
            "UPDATE notifications SET read_at = ? WHERE recipient_id = ? AND read_at IS NULL"
            " AND id IN (SELECT unnest(?::BIGINT[]))", [now, user.id, notification_ids]).fetchall()[0][0]

    return db.write(cur, work)
