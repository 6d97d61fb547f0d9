"""Filling a template for a mail: the placeholder values of a lead (or made-up ones for the
preview), and the rendered subject, HTML and text of an autoresponder or a seller's message."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from leadcore import auth, db, roles
from leadcore.admin.settings import Dealership, dealership
from leadcore.auth import Actor, User
from leadcore.contacts.service import format_phone
from leadcore.errors import NotFound
from leadcore.i18n import _
from leadcore.leads.visibility import require_visible
from leadcore.mail import outbox
from leadcore.mail.html import (
    HEADER_IMAGE_CID,
    HeaderImage,
    MailBlocks,
    document,
    layout,
    plain_text,
    render_block,
    render_subject,
)
from leadcore.mail.templates import COLOUR, FIELDS, MailTemplate, TemplateDraft, check_draft, header_image

Context = dict[str, dict[str, str]]


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class Recipient:
    """Who a mail about a lead goes to, and what else the outbox row needs."""
    email: str        # the contact's address ("" when the contact has none)
    name: str         # the contact's name as the To header shows it
    source_id: int    # whose template applies
    reply_to: str     # the seller's address: replies go to a person


def lead_contexts(cur: duckdb.DuckDBPyConnection, lead_ids: list[int],
                  seller: User | None = None) -> dict[int, tuple[Context, Recipient]]:
    """Placeholder values and recipient of each lead (seller: the lead's editor unless given), in
    two queries whatever the number of leads (intake queues an autoresponder per new lead)."""
    where = "l.id = ?" if len(lead_ids) == 1 else "l.id IN (SELECT unnest(?::BIGINT[]))"
    rows = cur.execute(
        f"""SELECT l.id, c.salutation, c.first_name, c.last_name, c.company, c.email, l.subject, l.source_id,
                   u.full_name, u.email, u.phone, l.vehicle_make, l.vehicle_model, l.vehicle_year
            FROM leads l JOIN contacts c ON c.id = l.contact_id JOIN users u ON u.id = l.editor_id
            WHERE {where}""", [lead_ids[0] if len(lead_ids) == 1 else list(lead_ids)]).fetchall() if lead_ids else []
    shop = dealership(cur)
    signer = (seller.full_name, seller.email, _user_phone(cur, seller)) if seller is not None else None
    found = {}
    for (lead_id, salutation, first, last, company, email, subject, source_id, editor, editor_email,
         editor_phone, make, model, year) in rows:
        if signer is not None:   # a message is signed by whoever writes it, not always the editor
            editor, editor_email, editor_phone = signer
        context = {
            "contact": {"salutation": _text(salutation), "first_name": _text(first),
                        "last_name": _text(last or company)},
            "lead": {"subject": _text(subject)},
            "vehicle": {"make": _text(make), "model": _text(model), "year": _text(year)},
            "seller": {"name": _text(editor), "email": _text(editor_email),
                       "phone": format_phone(_text(editor_phone)) or shop.phone},
            "dealership": _dealership_context(shop),
        }
        name = " ".join(p for p in (_text(first), _text(last)) if p) or _text(company)
        found[lead_id] = (context, Recipient(_text(email), name, source_id, _text(editor_email)))
    return found


def lead_context(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime | None, lead_id: int,
                 seller: User | None = None) -> tuple[Context, Recipient]:
    """The placeholder values and recipient of one lead, for an actor who may see it (they hold
    the customer's name and address). `now` lets a deputy see an absent colleague's lead."""
    require_visible(cur, actor, lead_id, now)
    found = lead_contexts(cur, [lead_id], seller)
    if lead_id not in found:
        raise NotFound(_("This lead does not exist."))
    return found[lead_id]


def _user_phone(cur: duckdb.DuckDBPyConnection, user: User) -> str:
    rows = cur.execute("SELECT phone FROM users WHERE id = ?", [user.id]).fetchall()
    return format_phone(_text(rows[0][0])) if rows else ""


def _dealership_context(shop: Dealership) -> dict[str, str]:
    address = ", ".join(line.strip() for line in shop.address.splitlines() if line.strip())
    return {"name": shop.name, "address": address, "phone": shop.phone}


def sample_context(cur: duckdb.DuckDBPyConnection, seller: User) -> Context:
    """Made-up customer data and the signed-in user as seller: for the preview and test mail."""
    shop = dealership(cur)
    return {
        "contact": {"salutation": "Herr", "first_name": "Max", "last_name": "Mustermann"},
        "lead": {"subject": "VW Golf 8 GTI – test drive"},
        "vehicle": {"make": "Volkswagen", "model": "Golf 8 GTI", "year": "2023"},
        "seller": {"name": seller.full_name, "email": seller.email,
                   "phone": _user_phone(cur, seller) or shop.phone},
        "dealership": _dealership_context(shop),
    }


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    blocks: MailBlocks
    header_image: HeaderImage | None

    @property
    def html(self) -> str:
        """The text/html part: the header graphic refers to the inline image by Content-ID."""
        src = f"cid:{HEADER_IMAGE_CID}" if self.header_image else None
        return document(layout(self.blocks, src), self.subject)

    @property
    def preview_html(self) -> str:
        """The same mail for the in-app preview: the graphic as a data: URI (its bytes needed)."""
        return layout(self.blocks, self.header_image.data_uri if self.header_image else None)

    @property
    def text(self) -> str:
        return plain_text(self.blocks)


def _render(template: TemplateDraft | MailTemplate, subject: str, body: str, context: Context,
            subject_is_template: bool = True) -> RenderedMail:
    image = template.header_image
    if isinstance(image, bytes):
        image = header_image(image)
    blocks = MailBlocks(
        body=render_block(body, context, FIELDS),
        signature=render_block(template.autoresponder_footer_html, context, FIELDS),
        legal_footer=render_block(template.general_footer_html, context, FIELDS),
        banner_colour=template.banner_colour if COLOUR.fullmatch(template.banner_colour or "") else "#1f4e79",
        banner_text=context["dealership"]["name"])
    subject = render_subject(subject, context, FIELDS) if subject_is_template else " ".join(subject.split())
    return RenderedMail(subject, blocks, image)


def render_autoresponder(template: TemplateDraft | MailTemplate, context: Context) -> RenderedMail:
    """The autoresponder of this template; MailTemplateError when a block cannot be rendered."""
    return _render(template, template.autoresponder_subject, template.autoresponder_html, context)


def render_message(template: TemplateDraft | MailTemplate, subject: str, body_html: str,
                   context: Context) -> RenderedMail:
    """A seller's message in the template's frame (graphic, banner, seller footer, legal footer).
    The body may use placeholders; the subject is taken as written."""
    return _render(template, subject, body_html, context, subject_is_template=False)


def preview(draft: TemplateDraft, context: Context) -> RenderedMail:
    """The autoresponder of an unsaved draft: checked first, so errors name their block."""
    return render_autoresponder(check_draft(draft), context)


def queue_test_mail(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, draft: TemplateDraft) -> int:
    """Queue the draft's autoresponder, with sample data, to the signed-in user."""
    def work(c: duckdb.DuckDBPyConnection) -> int:
        acting = auth.acting(c, user, roles.EDIT_SETTINGS)
        mail = preview(draft, sample_context(c, acting))
        return outbox.queue(c, now, outbox.OutgoingMail(
            kind="test", recipient_email=acting.email, recipient_name=acting.full_name,
            subject=_("[Test] {subject}").format(subject=mail.subject), body_text=mail.text,
            body_html=mail.html, header_image=mail.header_image, reply_to=acting.email))

    return db.write(cur, work)
