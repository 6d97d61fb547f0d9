"""The outbox: every mail leadcore sends is a row here first, then goes out over SMTP.

Each row is a small state machine: queued -> sending -> sent, or back to queued with a later
send_after (retry with exponential backoff), or failed after MAX_ATTEMPTS or a permanent refusal.

Crash safety, the trade-off chosen: *at least once, recognisably*. The claim (status 'sending',
sending_since, attempts + 1 and a Message-ID fixed for good) is committed before the server is
contacted, and 'sent' is committed right after the server accepted the message. So a crash can
never lose a mail: a row left in 'sending' is taken up again once it is older than STALE_AFTER
and sent with the same Message-ID. If the crash fell between the server's "250 OK" and our
commit (a window of milliseconds), the customer gets the same message twice, with one
Message-ID, which mail clients and most providers fold into one. At-most-once would instead
risk losing an autoresponder for good, which a dealership notices less but minds more.
Within one process a lock keeps two senders (scheduler thread and a "Send now" click) apart;
DuckDB lets no second process open the file.
"""
from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import pandas as pd
import pyarrow as pa

from leadcore import auth, db, hygiene, process, roles
from leadcore.admin import settings
from leadcore.auth import Actor
from leadcore.errors import Conflict, NotFound, ValidationError
from leadcore.i18n import N_, _
from leadcore.mail import smtp as mailer
from leadcore.mail.html import HEADER_IMAGE_CID, HeaderImage
from leadcore.mail.smtp import Part, SmtpConfig

MAX_ATTEMPTS = 8                       # about two hours of retrying, then 'failed'
STALE_AFTER = timedelta(minutes=15)    # a claim older than this was interrupted (crash)
BATCH = 20                             # rows per claim: small, so claims stay young
STATUS_LABELS = {"queued": N_("Queued"), "sending": N_("Sending"), "sent": N_("Sent"), "failed": N_("Failed")}
KIND_LABELS = {"notification": N_("Notification"), "autoresponder": N_("Autoresponder"),
               "forward": N_("Forwarded intake"), "message": N_("Message"), "test": N_("Test mail")}


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 1, 2, 4 ... minutes, at most 1 h."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


@dataclass(frozen=True)
class OutgoingMail:
    kind: str                     # notification, autoresponder, forward, message, test
    recipient_email: str
    recipient_name: str
    subject: str
    body_text: str
    body_html: str | None = None
    lead_id: int | None = None
    send_after: datetime | None = None   # None: at once
    reply_to: str | None = None
    header_image: HeaderImage | None = None
    attachment: Part | None = None


def store_image(cur: duckdb.DuckDBPyConnection, now: datetime, image_id: str, mime_type: str, data: bytes) -> str:
    """Keep a picture once by its hash (inside the caller's transaction); returns its id."""
    cur.execute("INSERT INTO mail_images (id, mime_type, data, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING", [image_id, mime_type, data, now])
    return image_id


_QUEUE_COLUMNS = ("created_at", "send_after", "kind", "recipient_email", "recipient_name", "subject",
                  "body_text", "body_html", "lead_id", "reply_to", "header_image_id", "attachment",
                  "attachment_name", "attachment_type")


def _image_id(cur: duckdb.DuckDBPyConnection, now: datetime, image: HeaderImage | None) -> str | None:
    if image is None:
        return None
    # Without its bytes the picture is a stored template's: referring to it is enough.
    return image.id if image.data is None else store_image(cur, now, image.id, image.mime_type, image.data)


def _values(now: datetime, mail: OutgoingMail, image_id: str | None) -> tuple:
    attachment = mail.attachment
    return (now, mail.send_after or now, mail.kind, mail.recipient_email, mail.recipient_name,
            " ".join(mail.subject.split()), mail.body_text, mail.body_html, mail.lead_id, mail.reply_to, image_id,
            attachment.data if attachment else None, attachment.name if attachment else None,
            attachment.mime_type if attachment else None)


def queue(cur: duckdb.DuckDBPyConnection, now: datetime, mail: OutgoingMail) -> int:
    """Add a mail to the outbox inside the caller's transaction; returns its id."""
    return queue_many(cur, now, [mail])[0]


def queue_many(cur: duckdb.DuckDBPyConnection, now: datetime, mails: list[OutgoingMail]) -> list[int]:
    """Add mails inside the caller's transaction, many in one statement; their ids, in order."""
    if not mails:
        return []
    images = {m.header_image.id: _image_id(cur, now, m.header_image) for m in mails if m.header_image}
    image_ids = [images[m.header_image.id] if m.header_image else None for m in mails]
    columns = ", ".join(_QUEUE_COLUMNS)
    if len(mails) == 1:
        return [cur.execute(f"INSERT INTO outbox ({columns}) VALUES ({', '.join('?' * len(_QUEUE_COLUMNS))})"
                            " RETURNING id", list(_values(now, mails[0], image_ids[0]))).fetchall()[0][0]]
    # One INSERT ... SELECT over the rows as an Arrow table: a statement per row costs ~1 ms each.
    # The ids are drawn first, so they can be returned in the mails' order.
    ids = [r[0] for r in cur.execute("SELECT nextval('outbox_id_seq') FROM generate_series(1, ?)", [len(mails)]).fetchall()]
    batch = pa.Table.from_pylist([dict(zip(("id", *_QUEUE_COLUMNS), (i, *_values(now, m, image_id))))
                                  for i, m, image_id in zip(ids, mails, image_ids)], schema=_ARROW_SCHEMA)
    db.insert_rows(cur, "outbox", batch)
    return ids


_ARROW_SCHEMA = pa.schema([
    ("id", pa.int64()), ("created_at", pa.timestamp("us", tz="UTC")), ("send_after", pa.timestamp("us", tz="UTC")),
    ("kind", pa.string()), ("recipient_email", pa.string()), ("recipient_name", pa.string()),
    ("subject", pa.string()), ("body_text", pa.string()), ("body_html", pa.string()), ("lead_id", pa.int64()),
    ("reply_to", pa.string()), ("header_image_id", pa.string()), ("attachment", pa.binary()),
    ("attachment_name", pa.string()), ("attachment_type", pa.string()),
])


# --- claiming and sending ------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimedMail:
    id: int
    message_id: str
    attempts: int
    recipient_email: str
    recipient_name: str
    subject: str
    body_text: str
    body_html: str | None
    reply_to: str | None
    image: Part | None
    attachment: Part | None


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0            # failed this time, queued again for later
    failed: int = 0              # given up: shown as failed in the Outbox
    recovered: int = 0           # interrupted claims taken up again
    errors: list[str] = field(default_factory=list)
    skipped: str | None = None   # why nothing was tried (another sender is busy)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed


def _recover_interrupted(c: duckdb.DuckDBPyConnection, now: datetime) -> int:
    return len(c.execute(
        "UPDATE outbox SET status = CASE WHEN attempts >= $max THEN 'failed' ELSE 'queued' END,"
        " send_after = $now, sending_since = NULL,"
        " last_error = 'Interrupted while sending; it may have reached the server. Sent again with the same Message-ID.'"
        " WHERE status = 'sending' AND sending_since <= $stale RETURNING id",
        {"now": now, "stale": now - STALE_AFTER, "max": MAX_ATTEMPTS}).fetchall())


def claim(cur: duckdb.DuckDBPyConnection, now: datetime, domain: str, limit: int = BATCH) -> tuple[list[ClaimedMail], int]:
    """Mark up to `limit` due rows 'sending' and commit that; returns them and how many
    interrupted claims were recovered first. Only claimed rows may be handed to the server."""
    def work(c: duckdb.DuckDBPyConnection) -> tuple[list[int], int]:
        recovered = _recover_interrupted(c, now)
        ids = c.execute(
            "UPDATE outbox SET status = 'sending', sending_since = $now, attempts = attempts + 1,"
            " message_id = coalesce(message_id, '<' || CAST(gen_random_uuid() AS VARCHAR) || '@' || $domain || '>')"
            " WHERE id IN (SELECT id FROM outbox WHERE status = 'queued' AND send_after <= $now"
            f"              ORDER BY send_after, id LIMIT $limit{db.skip_locked(c)}) RETURNING id",
            {"now": now, "domain": domain, "limit": limit}).fetchall()
        return [r[0] for r in ids], recovered

    ids, recovered = db.write(cur, work)
    if not ids:
        return [], recovered
    rows = cur.execute(
        "SELECT o.id, o.message_id, o.attempts, o.recipient_email, o.recipient_name, o.subject, o.body_text,"
        " o.body_html, o.reply_to, i.mime_type, i.data, o.attachment_name, o.attachment_type, o.attachment"
        " FROM outbox o LEFT JOIN mail_images i ON i.id = o.header_image_id"
        " WHERE o.id IN (SELECT unnest(?::BIGINT[])) ORDER BY o.send_after, o.id", [ids]).fetchall()
    claimed = []
    for (*head, image_type, image_data, att_name, att_type, att_data) in rows:
        image = Part(HEADER_IMAGE_CID, image_type, bytes(image_data)) if image_data is not None else None
        attachment = Part(att_name, att_type, bytes(att_data)) if att_data is not None else None
        claimed.append(ClaimedMail(*head, image=image, attachment=attachment))
    return claimed, recovered


def _mark_sent(cur: duckdb.DuckDBPyConnection, mail: ClaimedMail, now: datetime) -> None:
    db.write(cur, lambda c: c.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ?, sending_since = NULL WHERE id = ? AND status = 'sending'",
        [now, mail.id]))


def _mark_failed(cur: duckdb.DuckDBPyConnection, mail: ClaimedMail, now: datetime, error: str,
                 permanent: bool) -> bool:
    """Back to the queue with backoff, or 'failed' for good; True when given up."""
    give_up = permanent or mail.attempts >= MAX_ATTEMPTS
    db.write(cur, lambda c: c.execute(
        "UPDATE outbox SET status = ?, send_after = ?, last_error = ?, sending_since = NULL"
        " WHERE id = ? AND status = 'sending'",
        ["failed" if give_up else "queued", now + backoff(mail.attempts), error[:1000], mail.id]))
    return give_up


def _message(mail: ClaimedMail, config: SmtpConfig, from_name: str, now: datetime):
    return mailer.build_message(
        from_name=from_name, from_address=config.from_address, to_name=mail.recipient_name,
        to_address=mail.recipient_email, subject=mail.subject, text=mail.body_text, html=mail.body_html,
        message_id=mail.message_id, date=now, reply_to=mail.reply_to, inline_image=mail.image,
        attachment=mail.attachment)


def send_due(cur: duckdb.DuckDBPyConnection, now: datetime, config: SmtpConfig, limit: int = 500) -> SendReport:
    """Send up to `limit` rows due at `now`, claimed BATCH at a time; see the module doc."""
    lock = process.PROCESS.outbox_lock
    if not lock.acquire(blocking=False):
        return SendReport(skipped="busy")
    try:
        report = SendReport()
        while report.handled < limit:
            claimed, recovered = claim(cur, now, config.domain, min(BATCH, limit - report.handled))
            report.recovered += recovered
            if not claimed:
                break
            if not _send(cur, now, config, claimed, report):
                break   # the server cannot be reached: the rest waits for the next run
        return report
    finally:
        lock.release()


def _send(cur: duckdb.DuckDBPyConnection, now: datetime, config: SmtpConfig, claimed: list[ClaimedMail],
          report: SendReport) -> bool:
    """Hand the claimed mails to the server over one connection; False when the connection failed."""
    from_name = settings.get(cur, "email_from_name", "leadcore") or "leadcore"
    pending = list(claimed)
    try:
        with mailer.SmtpSession(config) as smtp:
            while pending:
                mail = pending[0]
                try:
                    smtp.send(_message(mail, config, from_name, now), mail.recipient_email)
                except (ValueError, smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as error:
                    # This message's own problem: record it and go on with the others.
                    pending.pop(0)
                    text = mailer.describe_error(error)
                    _count(report, _mark_failed(cur, mail, now, text, mailer.is_permanent(error)), text)
                    continue
                pending.pop(0)
                _mark_sent(cur, mail, now)
                report.sent += 1
    except (OSError, smtplib.SMTPException) as error:
        # The connection failed (refused, login, timeout, disconnect): everything not sent retries.
        text = mailer.describe_error(error)
        for mail in pending:
            _count(report, _mark_failed(cur, mail, now, text, permanent=False), text)
        return False
    return True


def _count(report: SendReport, gave_up: bool, error: str) -> None:
    if gave_up:
        report.failed += 1
    else:
        report.retrying += 1
    if error not in report.errors:
        report.errors.append(error)


# --- the Outbox view -----------------------------------------------------------------------

def _require_viewer(cur: duckdb.DuckDBPyConnection, actor: Actor) -> None:
    """The outbox holds every customer's mail: settings editors only (re-read, so at once)."""
    auth.acting(cur, actor, roles.EDIT_SETTINGS)


def status_counts(cur: duckdb.DuckDBPyConnection, actor: Actor) -> dict[str, int]:
    _require_viewer(cur, actor)
    counts = dict(cur.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
    return {status: counts.get(status, 0) for status in STATUS_LABELS}


def list_outbox(cur: duckdb.DuckDBPyConnection, actor: Actor, statuses: tuple[str, ...] = (),
                limit: int = 200) -> pd.DataFrame:
    """The newest rows (failed and queued first when no status is chosen), without bodies."""
    _require_viewer(cur, actor)
    where = "status IN (SELECT unnest(?::VARCHAR[]))" if statuses else "TRUE"
    params = [list(statuses)] if statuses else []
    return cur.execute(
        f"""SELECT id, created_at, kind, recipient_name, recipient_email, subject, status, attempts,
                   last_error, send_after, sent_at, lead_id
            FROM outbox WHERE {where}
            ORDER BY CASE status WHEN 'failed' THEN 0 WHEN 'sending' THEN 1 WHEN 'queued' THEN 2 ELSE 3 END,
                     created_at DESC, id DESC
            LIMIT {int(limit)}""", params).df()


def retry(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, outbox_id: int | None) -> None:
    """Give a failed mail a fresh round of attempts (after the address or server was fixed)."""
    def work(c: duckdb.DuckDBPyConnection) -> None:
        _require_viewer(c, user)
        if outbox_id is None:
            raise ValidationError("outbox", _("Choose a failed mail first."))
        rows = hygiene.valid_id(outbox_id) and c.execute(
            "SELECT status FROM outbox WHERE id = ?", [outbox_id]).fetchall()
        if not rows:
            raise NotFound(_("This mail is not in the outbox."))
        if rows[0][0] != "failed":
            raise Conflict(_("Only failed mails can be sent again."))
        c.execute("UPDATE outbox SET status = 'queued', attempts = 0, send_after = ? WHERE id = ? AND status = 'failed'",
                  [now, outbox_id])

    db.write(cur, work)
