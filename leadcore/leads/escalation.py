"""The escalation sweep: records each passed stage of each open lead once, and queues its e-mail.

Stages (SPEC section 4): the reminder and stage 1 go to the lead's editor, stage 2 to each
of the editor's superiors. A notification belongs to one due cycle (the lead's due_at when it
was recorded): working a lead moves its due and so starts a new cycle, which is why a worked
lead is never notified for the old one. The sweep is set-based SQL, so a million leads take
well under the two seconds the goal allows, and a second sweep finds nothing to write.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from leadcore import db, i18n
from leadcore.admin import settings
from leadcore.contacts.service import customer_name_sql
from leadcore.i18n import N_, _
from leadcore.rules import duetime

# Which leads pass which stage now, and to whom it goes. The reminder is only worth sending
# while the lead is still "due soon": once overdue, stage 1 says more.
_STAGE_QUERIES = {
    "reminder": """
        SELECT l.id, 'reminder', l.editor_id, l.due_at FROM leads l
        WHERE l.status = 'open' AND l.reminder_at <= $now AND $now < l.due_at""",
    "stage1": """
        SELECT l.id, 'stage1', l.editor_id, l.due_at FROM leads l
        WHERE l.status = 'open' AND l.due_at <= $now""",
    "stage2": """
        SELECT l.id, 'stage2', s.superior_id, l.due_at FROM leads l
        JOIN user_superiors s ON s.user_id = l.editor_id
        JOIN users u ON u.id = s.superior_id AND u.active
        WHERE l.status = 'open' AND l.stage2_at <= $now""",
}

# Each mail is written in its recipient's language: the texts are translated per language and
# the insert runs once for each language's recipients.
_MAIL_TEXT = {
    "reminder": (N_("Reminder: lead #{id} is due at {due}"),
                 N_("the lead #{id} “{subject}” of {customer} ({source}) is due at {due}. "
                    "Please work on it before then.")),
    "stage1": (N_("Overdue: lead #{id} since {due}"),
               N_("the lead #{id} “{subject}” of {customer} ({source}) was due at {due} "
                  "and has not been worked on yet (escalation stage 1).")),
    "stage2": (N_("Escalated to you: lead #{id} of {editor}"),
               N_("the lead #{id} “{subject}” of {customer} ({source}), edited by {editor}, was due at "
                  "{due} and has still not been worked on. It is escalated to you as supervisor (stage 2).")),
}
_GREETING = N_("Hello {name},")


@dataclass(frozen=True)
class SweepResult:
    reminder: int = 0
    stage1: int = 0
    stage2: int = 0
    mails: int = 0
    skipped: str | None = None   # why nothing was recorded (a holiday or closure)

    @property
    def total(self) -> int:
        return self.reminder + self.stage1 + self.stage2


def _sql_text(template: str) -> str:
    """A message template, translated into this run's language, as a DuckDB string expression
    over the sweep's columns."""
    template = _(template)
    parts = []
    for piece in template.replace("{", "\x00{").replace("}", "}\x00").split("\x00"):
        if piece.startswith("{") and piece.endswith("}"):
            parts.append({"{id}": "CAST(l.id AS VARCHAR)", "{subject}": "l.subject",
                          "{customer}": customer_name_sql("c"),
                          "{source}": "src.name", "{editor}": "ed.full_name", "{name}": "r.full_name",
                          "{due}": "strftime(timezone($tz, l.due_at), '%d.%m.%Y %H:%M')"}[piece])
        elif piece:
            parts.append("'" + piece.replace("'", "''") + "'")
    return " || ".join(parts)


def _outbox_insert() -> str:
    subject = "CASE n.stage " + " ".join(
        f"WHEN '{stage}' THEN {_sql_text(s)}" for stage, (s, _b) in _MAIL_TEXT.items()) + " END"
    body = "CASE n.stage " + " ".join(
        f"WHEN '{stage}' THEN {_sql_text(b)}" for stage, (_s, b) in _MAIL_TEXT.items()) + " END"
    return f"""
        INSERT INTO outbox (created_at, send_after, kind, recipient_email, recipient_name, subject,
                            body_text, lead_id, notification_id)
        SELECT $now, $send_after, 'notification', r.email, r.full_name, {subject},
               {_sql_text(_GREETING)} || chr(10) || chr(10) || {body} || chr(10) || chr(10) || 'leadcore',
               l.id, n.id
        FROM notifications n
        JOIN leads l ON l.id = n.lead_id
        JOIN users r ON r.id = n.recipient_id
        JOIN users ed ON ed.id = l.editor_id
        JOIN contacts c ON c.id = l.contact_id
        JOIN sources src ON src.id = l.source_id
        WHERE n.id > $after_id AND r.email <> '' AND coalesce(r.language, $dealership) = $language
        ORDER BY n.id
    """


def sweep(cur: duckdb.DuckDBPyConnection, now: datetime) -> SweepResult:
    """Record the notifications due at `now` (once per lead, stage and cycle) and queue their mails."""
    rules = settings.due_settings(cur)
    if now.astimezone(rules.tz).date() in rules.holidays:
        return SweepResult(skipped=N_("holiday"))
    # Mails go out inside working hours only: outside them they wait for the next period.
    send_after = duetime.next_working_start(now, rules)

    def work(c: duckdb.DuckDBPyConnection) -> SweepResult:
        after_id = c.execute("SELECT coalesce(max(id), 0) FROM notifications").fetchall()[0][0]
        counts = {}
        for stage, query in _STAGE_QUERIES.items():
            counts[stage] = c.execute(f"""
                INSERT INTO notifications (lead_id, stage, recipient_id, cycle_due_at, created_at)
                SELECT due.*, $now FROM ({query}) AS due (lead_id, stage, recipient_id, cycle_due_at)
                WHERE NOT EXISTS (
                    SELECT 1 FROM notifications n
                    WHERE n.lead_id = due.lead_id AND n.stage = due.stage
                      AND n.recipient_id = due.recipient_id AND n.cycle_due_at = due.cycle_due_at)
            """, {"now": now}).fetchall()[0][0]
        mails = 0
        if sum(counts.values()):
            dealership = settings.dealership_language(c)
            for code in i18n.LANGUAGES:
                with i18n.using(code):
                    mails += c.execute(_outbox_insert(), {
                        "now": now, "send_after": send_after, "after_id": after_id, "tz": rules.tz.key,
                        "dealership": dealership, "language": code}).fetchall()[0][0]
        return SweepResult(mails=mails, **counts)

    return db.write(cur, work)
