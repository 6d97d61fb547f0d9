"""E-mail templates (SPEC section 8): the default one and one per source, their placeholders,
validation and storage, and the dealership's details that mails show.

The blocks: header graphic (PNG/JPEG), autoresponder subject and content, autoresponder footer
(the receiving seller's data), general footer (legal text, added to every mail), banner colour.
Filling them for a lead is leadcore.mail_render; making them safe HTML is leadcore.mail_html.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields, replace
from datetime import datetime

import duckdb

from leadcore import audit, auth, db, hygiene, i18n, roles
from leadcore.admin import settings
from leadcore.auth import Actor
from leadcore.errors import NotFound, ValidationError, ValidationErrors
from leadcore.i18n import N_, _
from leadcore.mail import outbox
from leadcore.mail.html import HeaderImage, MailTemplateError, compile_checked


@dataclass(frozen=True)
class Placeholder:
    name: str     # group.field, as written between {{ }}
    label: str    # for the "insert placeholder" picker (translate with _ where shown)

    @property
    def tag(self) -> str:
        return "{{ " + self.name + " }}"


PLACEHOLDERS = (
    Placeholder("contact.salutation", N_("Customer: salutation")),
    Placeholder("contact.first_name", N_("Customer: first name")),
    Placeholder("contact.last_name", N_("Customer: last name")),
    Placeholder("lead.subject", N_("Lead: subject")),
    Placeholder("vehicle.make", N_("Vehicle: make")),
    Placeholder("vehicle.model", N_("Vehicle: model")),
    Placeholder("vehicle.year", N_("Vehicle: year")),
    Placeholder("seller.name", N_("Seller: name")),
    Placeholder("seller.phone", N_("Seller: phone")),
    Placeholder("seller.email", N_("Seller: e-mail")),
    Placeholder("dealership.name", N_("Dealership: name")),
    Placeholder("dealership.address", N_("Dealership: address")),
    Placeholder("dealership.phone", N_("Dealership: phone")),
)
FIELDS: dict[str, frozenset[str]] = {}
for _p in PLACEHOLDERS:
    _group, _field = _p.name.split(".")
    FIELDS[_group] = FIELDS.get(_group, frozenset()) | {_field}

LABELS = {
    "autoresponder_subject": N_("Autoresponder subject"),
    "autoresponder_html": N_("Autoresponder content"),
    "autoresponder_footer_html": N_("Autoresponder footer"),
    "general_footer_html": N_("General footer"),
    "banner_colour": N_("Banner colour"),
    "header_image": N_("Header graphic"),
}
# The default template as migration 0006 ships it, in English. While a dealership has not
# changed a block, it is read in the dealership's language (mails to customers); a block the
# dealership wrote itself is theirs, in whatever language they wrote it.
SHIPPED = {
    "autoresponder_subject": N_("Thank you for your enquiry: {{ lead.subject }}"),
    "autoresponder_html": N_(
        "<p>Dear {{ contact.salutation }} {{ contact.last_name }},</p>"
        "<p>thank you for your enquiry{% if vehicle.model %} about the {{ vehicle.make }} {{ vehicle.model }}"
        "{% endif %}. We have received it and {{ seller.name }} will get back to you shortly, "
        "within our opening hours at the latest on the next working day.</p>"
        "<p>Kind regards<br>Your team at {{ dealership.name }}</p>"),
    "autoresponder_footer_html": N_(
        "<p><strong>Your contact person</strong><br>{{ seller.name }}"
        "{% if seller.phone %}<br>Phone: {{ seller.phone }}{% endif %}"
        "<br>E-mail: <a href=\"mailto:{{ seller.email }}\">{{ seller.email }}</a></p>"),
    "general_footer_html": N_(
        "<p>{{ dealership.name }}{% if dealership.address %} · {{ dealership.address }}{% endif %}</p>"
        "<p>This e-mail was sent in reply to your enquiry. Please add the legal notice of the dealership "
        "(managing directors, commercial register, VAT ID) here.</p>"),
}
SUBJECT_LIMIT = 200
TEXT_LIMIT = 20_000
IMAGE_LIMIT = 500 * 1024
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


@dataclass(frozen=True)
class TemplateDraft:
    """What the template editor holds; header_image is the picture's bytes (None: no graphic)."""
    source_id: int | None
    autoresponder_subject: str
    autoresponder_html: str
    autoresponder_footer_html: str
    general_footer_html: str
    banner_colour: str
    header_image: bytes | None = None


@dataclass(frozen=True)
class MailTemplate:
    id: int
    name: str
    source_id: int | None
    autoresponder_subject: str
    autoresponder_html: str
    autoresponder_footer_html: str
    general_footer_html: str
    banner_colour: str
    header_image: HeaderImage | None
    updated_at: datetime

    def draft(self) -> TemplateDraft:
        return TemplateDraft(self.source_id, self.autoresponder_subject, self.autoresponder_html,
                             self.autoresponder_footer_html, self.general_footer_html, self.banner_colour,
                             self.header_image.data if self.header_image else None)


# --- checks --------------------------------------------------------------------------------

def image_type(data: bytes) -> str:
    """The picture's MIME type from its first bytes (never from its name); ValidationError otherwise."""
    if len(data) > IMAGE_LIMIT:
        raise ValidationError("header_image", _("Header graphic can be at most {n} kB; this one has {size} kB.")
                              .format(n=IMAGE_LIMIT // 1024, size=f"{len(data) / 1024:,.0f}"))
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    raise ValidationError("header_image", _("Header graphic must be a PNG or JPEG picture."))


def header_image(data: bytes | None) -> HeaderImage | None:
    if not data:
        return None
    return HeaderImage(hashlib.sha256(data).hexdigest(), image_type(data), data)


def check_draft(draft: TemplateDraft) -> TemplateDraft:
    """The draft with trimmed texts, or ValidationErrors naming every bad block."""
    errors: list[ValidationError] = []
    clean = {}
    for key in ("autoresponder_subject", "autoresponder_html", "autoresponder_footer_html", "general_footer_html"):
        text = (getattr(draft, key) or "").strip()
        label = _(LABELS[key])
        limit = SUBJECT_LIMIT if key == "autoresponder_subject" else TEXT_LIMIT
        before = len(errors)
        hygiene.check_plain(errors, key, label, text, multiline=key != "autoresponder_subject")
        if len(errors) > before:
            pass
        elif not text and key in ("autoresponder_subject", "autoresponder_html"):
            errors.append(ValidationError(key, _("{field} is required.").format(field=label)))
        elif len(text) > limit:
            errors.append(ValidationError(key, _("{field} can have at most {n} characters.")
                                          .format(field=label, n=f"{limit:,}")))
        else:
            try:
                compile_checked(text, FIELDS, autoescape=key != "autoresponder_subject")
            except MailTemplateError as error:
                errors.append(ValidationError(key, f"{label}: {error.message}"))
        clean[key] = text
    colour = (draft.banner_colour or "").strip()
    if not COLOUR.fullmatch(colour):
        errors.append(ValidationError("banner_colour", _("Banner colour must look like #1f4e79.")))
    clean["banner_colour"] = colour.lower()
    if draft.header_image:
        try:
            image_type(draft.header_image)
        except ValidationError as error:
            errors.append(error)
    if errors:
        raise ValidationErrors(errors)
    return replace(draft, **clean)


# --- storage -------------------------------------------------------------------------------

_COLUMNS = ("t.id, t.name, t.source_id, t.autoresponder_subject, t.autoresponder_html, "
            "t.autoresponder_footer_html, t.general_footer_html, t.banner_colour, "
            "i.id, i.mime_type, {data}, t.updated_at")


def _template(row: tuple) -> MailTemplate:
    *texts, image_id, mime, data, updated_at = row
    image = HeaderImage(image_id, mime, None if data is None else bytes(data)) if image_id else None
    template = MailTemplate(*texts, header_image=image, updated_at=updated_at)
    shipped = {key: _(english) for key, english in SHIPPED.items() if getattr(template, key) == english}
    return replace(template, **shipped)


def _select(cur: duckdb.DuckDBPyConnection, where: str, params: list, image_data: bool = True) -> list[MailTemplate]:
    columns = _COLUMNS.format(data="i.data" if image_data else "NULL")
    rows = cur.execute(f"SELECT {columns} FROM mail_templates t LEFT JOIN mail_images i"
                       f" ON i.id = t.header_image_id WHERE {where} ORDER BY t.source_id NULLS FIRST, t.id",
                       params).fetchall()
    with i18n.using(settings.dealership_language(cur)):
        return [_template(r) for r in rows]


def default_template(cur: duckdb.DuckDBPyConnection) -> MailTemplate:
    return _select(cur, "t.source_id IS NULL", [])[0]


def own_template(cur: duckdb.DuckDBPyConnection, source_id: int) -> MailTemplate | None:
    """The source's own template, or None when it uses the default one."""
    found = _select(cur, "t.source_id = ?", [source_id])
    return found[0] if found else None


def templates_for(cur: duckdb.DuckDBPyConnection, source_ids: list[int | None],
                  image_data: bool = True) -> dict[int | None, MailTemplate]:
    """The template each source's mails use (its own, else the default), in one query.

    image_data=False leaves the picture's bytes in the database (HeaderImage.data None): a mail
    being queued only refers to the stored picture, and intake queues many."""
    wanted = sorted({s for s in source_ids if s is not None})
    found = {t.source_id: t for t in _select(
        cur, "t.source_id IS NULL OR t.source_id IN (SELECT unnest(?::BIGINT[]))", [wanted], image_data)}
    return {source_id: found.get(source_id, found[None]) for source_id in [*source_ids, None]}


def template_for(cur: duckdb.DuckDBPyConnection, source_id: int | None, image_data: bool = True) -> MailTemplate:
    """The template a mail about a lead of this source uses: its own, else the default."""
    return templates_for(cur, [source_id], image_data)[source_id]


def list_templates(cur: duckdb.DuckDBPyConnection) -> list[MailTemplate]:
    return _select(cur, "TRUE", [])


def _summary(template: TemplateDraft | MailTemplate | None) -> dict | None:
    """For the audit log: the texts, and the picture by its hash (never its bytes)."""
    if template is None:
        return None
    values = {f.name: getattr(template, f.name) for f in fields(TemplateDraft) if f.name != "header_image"}
    image = template.header_image
    values["header_image"] = (image.id if isinstance(image, HeaderImage)
                              else hashlib.sha256(image).hexdigest() if image else None)
    return values


def _as_stored(cur: duckdb.DuckDBPyConnection, draft: TemplateDraft, key: str) -> str:
    """A block saved as the editor showed it, unchanged from the shipped text in the dealership's
    language, is stored as the shipped (English) text: it keeps following the language. Only
    what the dealership wrote itself is stored as its own."""
    value = getattr(draft, key)
    with i18n.using(settings.dealership_language(cur)):
        return SHIPPED[key] if value == _(SHIPPED[key]) else value


def save_template(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, draft: TemplateDraft) -> MailTemplate:
    """Store the default template (source_id None) or a source's own one (created on first save)."""
    def work(c: duckdb.DuckDBPyConnection) -> None:
        acting = auth.acting(c, user, roles.EDIT_SETTINGS)
        clean = check_draft(draft)
        name = _("Default template")
        if clean.source_id is not None:
            rows = hygiene.valid_id(clean.source_id) and c.execute(
                "SELECT name FROM sources WHERE id = ?", [clean.source_id]).fetchall()
            if not rows:
                raise NotFound(_("This source does not exist."))
            name = rows[0][0]
        before = own_template(c, clean.source_id) if clean.source_id is not None else default_template(c)
        image = header_image(clean.header_image)
        texts = [*(_as_stored(c, clean, key) for key in ("autoresponder_subject", "autoresponder_html",
                                                           "autoresponder_footer_html", "general_footer_html")),
                 clean.banner_colour]
        image_id = outbox.store_image(c, now, image.id, image.mime_type, image.data) if image else None
        if before is None:
            c.execute("INSERT INTO mail_templates (name, source_id, header_image_id, autoresponder_subject,"
                      " autoresponder_html, autoresponder_footer_html, general_footer_html, banner_colour,"
                      " updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      [name, clean.source_id, image_id, *texts, now, acting.id])
        else:
            c.execute("UPDATE mail_templates SET header_image_id = ?, autoresponder_subject = ?,"
                      " autoresponder_html = ?, autoresponder_footer_html = ?, general_footer_html = ?,"
                      " banner_colour = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                      [image_id, *texts, now, acting.id, before.id])
        audit.record(c, acting, now, "mail_templates", clean.source_id or "default",
                     "update" if before else "add", _summary(before), _summary(clean))

    db.write(cur, work)
    return template_for(cur, draft.source_id)


def remove_source_template(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, source_id: int) -> None:
    """The source uses the default template again."""
    def work(c: duckdb.DuckDBPyConnection) -> None:
        acting = auth.acting(c, user, roles.EDIT_SETTINGS)
        before = own_template(c, source_id) if hygiene.valid_id(source_id) else None
        if before is None:
            raise NotFound(_("This source uses the default template already."))
        c.execute("DELETE FROM mail_templates WHERE id = ?", [before.id])
        audit.record(c, acting, now, "mail_templates", source_id, "remove", _summary(before), None)

    db.write(cur, work)
