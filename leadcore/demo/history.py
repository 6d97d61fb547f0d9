"""What has happened to the demo leads: their lead_events (created, note, completed), and the
notifications a running desk would have sent and read by `now`."""
from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa

from leadcore import db
from leadcore.demo.columns import take, ts
from leadcore.demo.plan import LeadPlan
from leadcore.demo.subjects import WORK_NOTES
from leadcore.leads import escalation


def events_table(plan: LeadPlan, leads: pa.Table, reasons, first_id: int,
                 first_lead_id: int) -> pa.Table:
    """created (every lead), note (leads worked with a resubmission), completed (with the reason).

    Ids from first_id; the leads are `leads` (their subjects), whose ids run from first_lead_id.
    """
    n = plan.n
    lead_id = first_lead_id + np.arange(n)
    noted = np.flatnonzero(plan.resub >= 0)
    done = np.flatnonzero(~plan.is_open)
    rng = np.random.default_rng(int(plan.arrived[0]) % 2**32)
    happened = np.concatenate([plan.arrived, plan.response[noted], plan.completed[done]])
    order = np.argsort(happened, kind="stable")        # ids follow time, like the app's
    labels = [label for _id, _code, label in reasons]
    detail = pa.concat_arrays([
        leads.column("subject").combine_chunks(),
        take(WORK_NOTES, rng.integers(0, len(WORK_NOTES), size=len(noted))),
        take(labels, plan.reason_i[done]),
    ])
    kind = np.concatenate([np.zeros(n, np.int64), np.ones(len(noted), np.int64),
                           np.full(len(done), 2, np.int64)])
    return pa.table({
        "id": pa.array(first_id + np.arange(len(order)), type=pa.int64()),
        "lead_id": pa.array(np.concatenate([lead_id, lead_id[noted], lead_id[done]])[order]),
        "happened_at": ts(happened[order]),
        "user_id": pa.array(np.concatenate([plan.created_by, plan.editor[noted],
                                            plan.editor[done]])[order]),
        "kind": take(("created", "note", "completed"), kind[order]),
        "detail": detail.take(pa.array(order)),
    })


def settle_past_notifications(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """Give the demo the notification history a running desk would have.

    Without it the app's first sweep would "discover" every past escalation at once and queue
    a mail for each. Stages are dated when they passed, mails count as sent, and only what
    happened in the last day is still unread.
    """
    escalation.sweep(con, now)
    with db.transaction(con):
        con.execute("""
            UPDATE notifications AS n SET created_at = CASE n.stage
                WHEN 'reminder' THEN l.reminder_at WHEN 'stage1' THEN l.due_at ELSE l.stage2_at END
            FROM leads l WHERE l.id = n.lead_id""")
        con.execute("UPDATE notifications SET read_at = ? WHERE created_at < ?",
                    [now, now - timedelta(days=1)])
        con.execute("UPDATE outbox SET status = 'sent', sent_at = n.created_at, attempts = 1"
                    " FROM notifications n WHERE n.id = outbox.notification_id")
