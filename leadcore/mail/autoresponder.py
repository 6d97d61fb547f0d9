"""Mail that intake sends by itself: the autoresponder to the customer of a new lead, and a copy
of each intake message to the forwarding target (SPEC sections 7 and 8).

Both run inside the intake's transaction: they only add outbox rows (no commit of their own),
and a template that cannot be rendered costs the autoresponder, never the lead.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from pathlib import PurePath

import duckdb

from leadcore import i18n
from leadcore.admin import settings
from leadcore.i18n import _
from leadcore.mail import outbox
from leadcore.mail import render as mail_render
from leadcore.mail import templates as mail_templates
from leadcore.mail.html import MailTemplateError
from leadcore.mail.smtp import Part

log = logging.getLogger("leadcore.autoresponder")


def queue_for_new_leads(cur: duckdb.DuckDBPyConnection, lead_ids: list[int], now: datetime) -> dict[int, int]:
    """The same for a batch of new leads in four statements whatever its size (intake's speed):
    lead id -> outbox id, for the leads whose contact has an e-mail address."""
    contexts = mail_render.lead_contexts(cur, lead_ids)
    templates = mail_templates.templates_for(cur, [r.source_id for _c, r in contexts.values()], image_data=False)
    queued: list[tuple[int, outbox.OutgoingMail]] = []
    for lead_id in lead_ids:
        if lead_id not in contexts or not contexts[lead_id][1].email:
            continue
        context, recipient = contexts[lead_id]
        mail = _render(lead_id, context, [templates[recipient.source_id], templates[None]])
        if mail is not None:
            queued.append((lead_id, outbox.OutgoingMail(
                kind="autoresponder", recipient_email=recipient.email, recipient_name=recipient.name,
                subject=mail.subject, body_text=mail.text, body_html=mail.html, lead_id=lead_id,
                reply_to=recipient.reply_to or None, header_image=mail.header_image)))
    ids = outbox.queue_many(cur, now, [mail for _lead, mail in queued])
    return {lead_id: outbox_id for (lead_id, _mail), outbox_id in zip(queued, ids)}


def _render(lead_id: int, context: mail_render.Context,
            candidates: list[mail_templates.MailTemplate]) -> mail_render.RenderedMail | None:
    for template in dict.fromkeys(candidates):   # the source's own, then the default
        try:
            return mail_render.render_autoresponder(template, context)
        except MailTemplateError as error:
            # Templates are checked when saved, so this is a surprise worth a log line, not a lost lead.
            log.warning("autoresponder template %s failed for lead %s: %s", template.id, lead_id, error.message)
    return None


def _original_subject(raw: bytes) -> str:
    try:
        # compat32 and one decoded header: the default policy's header objects cost ~0.3 ms a mail
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        return " ".join(str(make_header(decode_header(str(headers.get("subject", ""))))).split())
    except Exception:  # noqa: BLE001 - a broken header still gets forwarded, under the file's name
        return ""


def _safe_file_name(file_name: str) -> str:
    name = PurePath(file_name.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", name).strip() or "lead"
    return name[-120:]


def queue_forward(cur: duckdb.DuckDBPyConnection, now: datetime, file_name: str, raw: bytes,
                  lead_id: int | None) -> int | None:
    """Queue a copy of an intake message (attached as it arrived) to the forwarding target;
    None when no forwarding target is set."""
    return (queue_forwards(cur, now, [(file_name, raw, lead_id)]) or [None])[0]


def queue_forwards(cur: duckdb.DuckDBPyConnection, now: datetime,
                   files: list[tuple[str, bytes, int | None]]) -> list[int]:
    """The same for a batch of intake files, with one settings read and one outbox insert
    (a statement per copy was most of intake's time); their outbox ids, in order."""
    target = (settings.get(cur, "forwarding_target", "") or "").strip()
    if not target or not files:
        return []
    mailbox = (settings.get(cur, "mailbox_address", "") or "").strip()
    # The dealership's own mailbox reads the copies: in the dealership's language.
    with i18n.using(settings.dealership_language(cur)):
        return outbox.queue_many(cur, now, [_forward(target, mailbox, *f) for f in files])


def _forward(target: str, mailbox: str, file_name: str, raw: bytes, lead_id: int | None) -> outbox.OutgoingMail:
    name = _safe_file_name(file_name)
    is_xml = name.lower().endswith(".xml")
    original = "" if is_xml else _original_subject(raw)
    subject = f"Fwd: {original}" if original else _("Lead file: {name}").format(name=name)
    lead_line = (_("Lead in leadcore: #{id}").format(id=lead_id) if lead_id is not None
                 else _("No lead was created from it."))
    arrived = (_("A lead message arrived at {mailbox} and was read by leadcore.").format(mailbox=mailbox)
               if mailbox else _("A lead message arrived and was read by leadcore."))
    file_line = _("File: {name}").format(name=name)
    attached = _("The original is attached unchanged.")
    text = f"{arrived}\n\n{file_line}\n{lead_line}\n\n{attached}"
    # .eml goes as octet-stream: message/rfc822 must not be base64-encoded, and the original's
    # bytes are attached unchanged; mail clients open it by the .eml name.
    attachment = Part(name, "application/xml" if is_xml else "application/octet-stream", bytes(raw))
    return outbox.OutgoingMail(kind="forward", recipient_email=target, recipient_name="", subject=subject,
                               body_text=text, lead_id=lead_id, attachment=attachment)
