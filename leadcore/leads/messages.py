"""Write message (SPEC section 5): a seller's e-mail to the lead's customer, in the frame of the
lead's source template, sent through the outbox. It is working the lead, like a note.

How the lead becomes due again: the writer may set a resubmission; without one the lead is
due again one stage-1 period (working time) after the message, the same clock a new lead gets,
and that moment is stored as its resubmission so the detail and timeline show it. Either way
the due moves to the future, which clears the escalation, and the first message stamps
first_response_at. The lead, its event and the outbox row change in one transaction.
"""
from __future__ import annotations

from datetime import datetime

import duckdb

from leadcore import db
from leadcore.rules import duetime
from leadcore.leads import service as leads
from leadcore.mail import render as mail_render
from leadcore.mail import templates as mail_templates
from leadcore.mail import outbox
from leadcore.admin import settings
from leadcore.errors import ValidationError, ValidationErrors
from leadcore.i18n import _
from leadcore.mail.html import MailTemplateError, html_to_text
from leadcore.auth import User

BODY_LIMIT = leads.NOTE_LIMIT


def preview_message(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_id: int, subject: str,
                    body_html: str) -> mail_render.RenderedMail:
    """The message as the customer will see it (the user must be allowed to write it)."""
    lead = leads.lead_for_write(cur, user, lead_id, now)
    context, _recipient = mail_render.lead_context(cur, lead_id, seller=user)
    try:
        return mail_render.render_message(mail_templates.template_for(cur, lead.source_id), subject,
                                          body_html, context)
    except MailTemplateError as error:
        raise ValidationErrors([ValidationError("body", error.message)]) from None


def queue_message(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_id: int, subject: str,
                  body_html: str, resubmission_at: datetime | None = None) -> int:
    """Queue the message to the lead's contact and record it as working the lead; returns the outbox id."""
    lead = leads.lead_for_write(cur, user, lead_id, now)
    leads.require_open(lead)
    context, recipient = mail_render.lead_context(cur, lead_id, seller=user)
    errors: list[ValidationError] = []
    if not recipient.email:
        errors.append(ValidationError("recipient", _(
            "This customer has no e-mail address; add one to the contact first.")))
    leads.check_text(errors, subject, None)
    if not (body_html or "").strip():
        errors.append(ValidationError("body", _("Message is required.")))
    elif len(body_html) > BODY_LIMIT:
        errors.append(ValidationError("body", _("Message can have at most {n} characters.").format(n=f"{BODY_LIMIT:,}")))
    leads.check_resubmission(errors, resubmission_at, now)
    mail = None
    if not errors:
        try:
            mail = mail_render.render_message(mail_templates.template_for(cur, lead.source_id, image_data=False),
                                              subject.strip(), body_html, context)
        except MailTemplateError as error:
            errors.append(ValidationError("body", error.message))
    if errors:
        raise ValidationErrors(errors)
    if resubmission_at is None:
        rules = settings.due_settings(cur, lead.source_id)
        resubmission_at = duetime.add_working_time(now, rules.stage1, rules)
    detail = _("To {email}: {subject}").format(email=recipient.email, subject=mail.subject)
    detail += "\n\n" + html_to_text(mail.blocks.body)

    def work(c: duckdb.DuckDBPyConnection) -> int:
        leads.move_due(c, lead, now, resubmission_at, worked=True)
        leads.append_event(c, lead_id, now, user, "message", detail)
        return outbox.queue(c, now, outbox.OutgoingMail(
            kind="message", recipient_email=recipient.email, recipient_name=recipient.name, subject=mail.subject,
            body_text=mail.text, body_html=mail.html, lead_id=lead_id, reply_to=user.email or None,
            header_image=mail.header_image))

    return db.write(cur, work)
