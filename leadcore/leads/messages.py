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

from leadcore import db, hygiene
from leadcore.admin import settings
from leadcore.auth import Actor
from leadcore.errors import ValidationError, ValidationErrors
from leadcore.i18n import _
from leadcore.leads import service as leads
from leadcore.mail import outbox
from leadcore.mail import render as mail_render
from leadcore.mail import smtp as mailer
from leadcore.mail import templates as mail_templates
from leadcore.mail.html import MailTemplateError, html_to_text
from leadcore.rules import duetime

BODY_LIMIT = leads.NOTE_LIMIT
# A header that cannot be written makes the mail fail for good at sending time; checking it
# here (with a stand-in sender address) refuses the message before the lead's due moves.
_CHECK_ADDRESS = "check@leadcore.invalid"


def preview_message(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, lead_id: int, subject: str,
                    body_html: str) -> mail_render.RenderedMail:
    """The message as the customer will see it (the user must be allowed to write it)."""
    lead = leads.lead_for_write(cur, user, lead_id, now)
    context, _recipient = mail_render.lead_context(cur, user, now, lead_id, seller=leads.writer(cur, user))
    try:
        return mail_render.render_message(mail_templates.template_for(cur, lead.source_id), subject,
                                          body_html, context)
    except MailTemplateError as error:
        raise ValidationErrors([ValidationError("body", error.message)]) from None


def _check_sendable(c: duckdb.DuckDBPyConnection, errors: list, now: datetime,
                    recipient: mail_render.Recipient, mail: mail_render.RenderedMail) -> None:
    hygiene.check_plain(errors, "recipient", _("The customer's name"), recipient.name)
    if errors:
        return
    try:
        mailer.build_message(from_name=settings.basic_settings(c).email_from_name, from_address=_CHECK_ADDRESS,
                             to_name=recipient.name, to_address=recipient.email, subject=mail.subject,
                             text=mail.text, html=None, message_id="<check@leadcore.invalid>", date=now)
    except (ValueError, TypeError) as error:
        errors.append(ValidationError("recipient", _(
            "This mail could not be sent ({problem}); correct the contact or the settings first.")
            .format(problem=error)))


def queue_message(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, lead_id: int, subject: str,
                  body_html: str, resubmission_at: datetime | None = None) -> int:
    """Queue the message to the lead's contact and record it as working the lead; returns the
    outbox id. One unit of work: everything is checked (the mail's headers included) before
    the lead's due moves, and the lead, its event and the outbox row change together."""
    def work(c: duckdb.DuckDBPyConnection) -> int:
        lead = leads.lead_for_write(c, user, lead_id, now)
        acting = leads.writer(c, user)
        leads.require_open(lead)
        context, recipient = mail_render.lead_context(c, acting, now, lead_id, seller=acting)
        errors: list[ValidationError] = []
        if not recipient.email:
            errors.append(ValidationError("recipient", _(
                "This customer has no e-mail address; add one to the contact first.")))
        leads.check_text(errors, subject, None)
        if not (body_html or "").strip():
            errors.append(ValidationError("body", _("Message is required.")))
        elif len(body_html) > BODY_LIMIT:
            errors.append(ValidationError("body", _("Message can have at most {n} characters.").format(n=f"{BODY_LIMIT:,}")))
        else:
            hygiene.check_plain(errors, "body", _("Message"), body_html, multiline=True)
        leads.check_resubmission(errors, resubmission_at, now)
        mail = None
        if not errors:
            try:
                mail = mail_render.render_message(mail_templates.template_for(c, lead.source_id, image_data=False),
                                                  subject.strip(), body_html, context)
            except MailTemplateError as error:
                errors.append(ValidationError("body", error.message))
        if mail is not None:
            _check_sendable(c, errors, now, recipient, mail)
        hygiene.raise_if(errors)
        due = resubmission_at
        if due is None:
            rules = settings.due_settings(c, lead.source_id)
            due = duetime.add_working_time(now, rules.stage1, rules)
        detail = _("To {email}: {subject}").format(email=recipient.email, subject=mail.subject)
        detail += "\n\n" + html_to_text(mail.blocks.body)
        leads.move_due(c, lead, now, due, worked=True)
        leads.append_event(c, lead_id, now, acting, "message", detail)
        return outbox.queue(c, now, outbox.OutgoingMail(
            kind="message", recipient_email=recipient.email, recipient_name=recipient.name, subject=mail.subject,
            body_text=mail.text, body_html=mail.html, lead_id=lead_id, reply_to=acting.email or None,
            header_image=mail.header_image))

    return db.write(cur, work)
