"""Lead e-mails (.eml) into an IncomingLead: plain text, HTML-only, multipart, with an ADF XML
body or attachment.

With ADF the XML says who and what (the mail adds its subject, date and sender). Without it,
the body's "Label: value" lines name the customer (marketplace mails), else the Reply-To or
From header does: someone who wrote to the lead mailbox themselves. The mail's Date is the
arrival time when the ADF has no requestdate. HTML is only ever turned into text here.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from leadcore.contacts.service import ContactInput
from leadcore.i18n import _
from leadcore.intake import adf
from leadcore.intake.incoming import IncomingLead, Rejected
from leadcore.intake.labels import read_labels
from leadcore.leads.service import SUBJECT_LIMIT
from leadcore.leads.vehicles import Vehicle, interest_code, parse_price, parse_year

_BROKEN_STRUCTURE = {"NoBoundaryInMultipartDefect", "StartBoundaryNotFoundDefect",
                     "MultipartInvariantViolationDefect"}
_XML_TYPES = {"application/xml", "text/xml", "application/adf+xml"}


def parse_mail(data: bytes, tz: ZoneInfo) -> IncomingLead:
    message = message_from_bytes(data, policy=policy.default)
    if not message.keys():
        raise Rejected(_("This is not an e-mail: it has no header lines."))
    broken = sorted({type(d).__name__ for part in message.walk() for d in part.defects} & _BROKEN_STRUCTURE)
    if broken:
        raise Rejected(_("The e-mail is malformed: its MIME structure is broken ({defects}).")
                       .format(defects=", ".join(broken)))
    texts, htmls, xmls = _parts(message)
    body = "\n\n".join(texts) or "\n\n".join(html_to_text(h) for h in htmls)
    sender_name, sender = _address(message, "from")
    headers = {"subject": _subject(message), "arrived_at": _date(message), "sender": sender,
               "message_id": _header(message, "message-id")[:300] or None}
    for xml in xmls:
        root = adf.parse_xml(xml)
        if adf.is_adf(root):
            lead = adf.from_root(root, tz)
            return replace(lead, subject=headers["subject"] or lead.subject, sender=sender,
                           message_id=headers["message_id"],
                           arrived_at=lead.arrived_at or headers["arrived_at"])
    fields = read_labels(body)
    if _names_customer(fields):
        customer = _customer_from_labels(fields, _address(message, "reply-to")[1])
    else:
        customer = _customer_from_headers(message, sender_name, sender)
    return IncomingLead(customer=customer, message=fields.get("message") or body.strip(),
                        vehicle=_vehicle_from_labels(fields), **headers)


def _parts(message: EmailMessage) -> tuple[list[str], list[str], list[bytes]]:
    """Readable text, HTML and XML (ADF candidates) of the mail, attachments included for XML."""
    texts, htmls, xmls = [], [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind, filename = part.get_content_type(), (part.get_filename() or "").lower()
        attached = part.get_content_disposition() == "attachment"
        if kind in _XML_TYPES or filename.endswith((".xml", ".adf")):
            xmls.append(part.get_payload(decode=True) or b"")
        elif kind == "text/plain" and not attached:
            text = _text(part)
            if adf.looks_like_xml(text.encode("utf-8")[:512]):
                xmls.append(text.encode("utf-8"))     # some feeds send the ADF document as the body
            else:
                texts.append(text)
        elif kind == "text/html" and not attached:
            htmls.append(_text(part))
    return texts, htmls, xmls


def _text(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        # An unknown or lying charset: the words are still worth more than a rejection.
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")


def _header(message: EmailMessage, name: str) -> str:
    try:
        return re.sub(r"\s+", " ", str(message.get(name) or "")).strip()
    except (ValueError, TypeError, IndexError):
        return ""


def _subject(message: EmailMessage) -> str:
    subject = _header(message, "subject")
    return subject if len(subject) <= SUBJECT_LIMIT else subject[:SUBJECT_LIMIT - 1].rstrip() + "…"


def _date(message: EmailMessage) -> datetime | None:
    try:
        header = message.get("date")
        moment = getattr(header, "datetime", None)
    except (ValueError, TypeError, IndexError):
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _address(message: EmailMessage, name: str) -> tuple[str, str]:
    """(display name, lower-case address) of a From / Reply-To header; empty when unreadable."""
    try:
        header = message.get(name)
        addresses = getattr(header, "addresses", ()) if header is not None else ()
    except (ValueError, TypeError, IndexError):
        return "", ""
    for address in addresses:
        if address.username and address.domain:
            return address.display_name.strip(), address.addr_spec.lower()
    return "", ""


def _names_customer(fields: dict[str, str]) -> bool:
    """Whether the body describes the customer. Then the From header is the marketplace or the
    form, never the customer: a body without e-mail or phone leaves no way to reach them."""
    return any(k in fields for k in ("name", "first_name", "last_name", "company", "email", "phone", "mobile"))


def _customer_from_labels(fields: dict[str, str], reply_to: str) -> ContactInput:
    first, last = fields.get("first_name", ""), fields.get("last_name", "")
    if not (first or last) and fields.get("name"):
        first, last = adf.split_full_name(fields["name"])
    return ContactInput(
        salutation=fields.get("salutation", ""), first_name=first, last_name=last,
        company=fields.get("company", ""), email=fields.get("email", "") or reply_to,
        phone=fields.get("phone", ""),
        mobile=fields.get("mobile", ""), street=fields.get("street", ""),
        postal_code=fields.get("postal_code", ""), city=fields.get("city", ""))


def _customer_from_headers(message: EmailMessage, from_name: str, sender: str) -> ContactInput:
    # A marketplace writing "on behalf of" puts the customer into Reply-To.
    reply_name, reply_to = _address(message, "reply-to")
    name, email = (reply_name, reply_to) if reply_to and reply_to != sender else (from_name, sender)
    first, last = adf.split_full_name(name) if name else ("", "")
    return ContactInput(first_name=first, last_name=last, email=email)


def _vehicle_from_labels(fields: dict[str, str]) -> Vehicle | None:
    vehicle = Vehicle(
        interest=interest_code(fields.get("interest")), year=parse_year(fields.get("year")),
        make=fields.get("make", ""), model=fields.get("model", "") or fields.get("vehicle", ""),
        vin=fields.get("vin", ""), stock_number=fields.get("stock_number", ""),
        price=parse_price(fields.get("price")),
        price_currency="EUR" if parse_price(fields.get("price")) is not None else "")
    return None if vehicle.is_empty and vehicle.interest is None else vehicle


class _TextOfHtml(HTMLParser):
    """Visible text of an HTML mail: blocks become lines, scripts and styles vanish."""

    _BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul",
               "ol", "blockquote", "section", "article", "header", "footer"}
    _HIDDEN = {"script", "style", "head", "title", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.chunks.append("\n")
        elif tag in ("td", "th"):
            self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (re.sub(r"[ \t\xa0]+", " ", line).strip() for line in "".join(parser.chunks).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
