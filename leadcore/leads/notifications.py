"""A user's notifications (reminders, stage 1, stage 2): count, list, mark as read."""
from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from leadcore import auth, db, hygiene, roles
from leadcore.auth import User
from leadcore.contacts.service import customer_name_sql
from leadcore.errors import NotFound, PermissionDenied
from leadcore.i18n import N_, _
from leadcore.leads import visibility

STAGE_LABELS = {
    "reminder": N_("Reminder: due soon"),
    "stage1": N_("Stage 1: overdue"),
    "stage2": N_("Stage 2: escalated to you"),
}
# What a notification says about its lead; blanked once the lead is out of the user's sight.
_PRIVATE = ("subject", "customer", "editor_id", "editor", "due_at", "status")


def unread_count(cur: duckdb.DuckDBPyConnection, user: User) -> int:
    auth.acting(cur, user)
    return cur.execute(
        "SELECT count(*) FROM notifications WHERE recipient_id = ? AND read_at IS NULL", [user.id]
    ).fetchall()[0][0]


def list_notifications(cur: duckdb.DuckDBPyConnection, user: User, unread_only: bool = False,
                       limit: int = 200, now: datetime | None = None) -> pd.DataFrame:
    """The user's newest notifications with the lead they are about (only ever their own).

    A lead the user may no longer see (handed to someone else meanwhile) keeps its row, marked
    `handed_over`, without its subject, customer, editor or due: those are no longer theirs to read.
    """
    auth.acting(cur, user)
    visible, params = visibility.lead_predicate(cur, user, now)
    sql = f"""
        WITH listed AS (
            SELECT n.id, n.lead_id, n.stage, n.created_at, n.read_at, l.subject,
                   {customer_name_sql("c")} AS customer, l.editor_id, u.full_name AS editor,
                   l.due_at, l.status, NOT ({visible}) AS handed_over
            FROM notifications n
            JOIN leads l ON l.id = n.lead_id
            JOIN contacts c ON c.id = l.contact_id
            JOIN users u ON u.id = l.editor_id
            WHERE n.recipient_id = $recipient {"AND n.read_at IS NULL" if unread_only else ""}
        )
        SELECT id, lead_id, stage, created_at, read_at,
               {", ".join(f"CASE WHEN handed_over THEN NULL ELSE {c} END AS {c}" for c in _PRIVATE)},
               handed_over
        FROM listed
        ORDER BY created_at DESC, id DESC
        LIMIT {int(limit)}
        """
    return cur.execute(sql, db.used_params(sql, {"recipient": user.id, **params})).df()


def open_notification(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
                      notification_id: int) -> int:
    """Mark one of the user's notifications read and return its lead, if the user may still see
    it; a lead handed over meanwhile is refused (the notification is marked read all the same)."""
    user = auth.acting(cur, user, roles.NOTIFICATIONS)
    rows = cur.execute("SELECT lead_id FROM notifications WHERE id = ? AND recipient_id = ?",
                       [notification_id, user.id]).fetchall()
    if not rows:
        raise NotFound(_("This notification does not exist."))
    mark_read(cur, user, now, [notification_id])
    lead_id = rows[0][0]
    if not visibility.check_lead(cur, user, lead_id, now):
        raise PermissionDenied(_("This lead was handed to someone else; you may no longer open it."))
    return lead_id


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
