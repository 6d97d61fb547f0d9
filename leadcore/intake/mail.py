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
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from leadcore.contacts.service import ContactInput
from leadcore.i18n import _
from leadcore.intake import adf, senders
from leadcore.intake.incoming import IncomingLead, PhoneIn, Rejected, no_way_to_reach
from leadcore.intake.labels import read_labels
from leadcore.intake.senders import Dealership
from leadcore.leads.service import SUBJECT_LIMIT
from leadcore.leads.vehicles import Vehicle, interest_code, parse_price, parse_year, status_code

_BROKEN_STRUCTURE = {"NoBoundaryInMultipartDefect", "StartBoundaryNotFoundDefect",
                     "MultipartInvariantViolationDefect"}
_XML_TYPES = {"application/xml", "text/xml", "application/adf+xml", "application/x-adf+xml"}


def parse_mail(data: bytes, tz: ZoneInfo, dealer: Dealership = Dealership()) -> list[tuple[str, IncomingLead | Rejected]]:
    """The leads of a mail: one, or one per ADF attachment when it carries several (a broken
    attachment among them is rejected on its own, by its name)."""
    # compat32: the modern policy's header objects cost most of a mail's parsing time, and
    # intake needs only a few headers, decoded below.
    message = message_from_bytes(data, policy=policy.compat32)
    if not message.keys():
        raise Rejected(_("This is not an e-mail: it has no header lines."))
    broken = sorted({type(d).__name__ for part in message.walk() for d in part.defects} & _BROKEN_STRUCTURE)
    if broken:
        raise Rejected(_("The e-mail is malformed: its MIME structure is broken ({defects}).")
                       .format(defects=", ".join(broken)))
    texts, htmls, xmls = _parts(message)
    body = "\n\n".join(texts) or "\n\n".join(html_to_text(h) for h in htmls)
    sender_name, sender = _address(message, "from")
    message_id = _header(message, "message-id")[:300] or None
    headers = {"subject": _subject(message), "arrived_at": _date(message), "sender": sender,
               "message_id": message_id}
    found: list[tuple[str, IncomingLead | Rejected]] = []
    for name, xml in xmls:
        try:
            root = adf.parse_xml(xml)
        except Rejected as rejected:
            found.append((name, rejected))
            continue
        if adf.is_adf(root):
            try:
                lead = adf.from_root(root, tz)
            except Rejected as rejected:
                found.append((name, rejected))
                continue
            found.append((name, replace(lead, subject=headers["subject"] or lead.subject, sender=sender,
                                        message_id=message_id, arrived_at=lead.arrived_at or headers["arrived_at"])))
    if len(found) > 1:
        # Several requests in one mail: each its own lead, told apart by the attachment's name.
        return [(name, replace(lead, part=name, message_id=f"{message_id}#{name}" if message_id else None)
                 if isinstance(lead, IncomingLead) else lead) for name, lead in found]
    if found:
        if isinstance(found[0][1], Rejected):
            raise found[0][1]
        return found
    fields = read_labels(body)
    reply_name, reply_to = _address(message, "reply-to")
    person = not senders.is_machine(sender, dealer)
    if _names_customer(fields):
        customer = _customer_from_labels(fields, reply_to if not senders.is_machine(reply_to, dealer) else "")
    elif reply_to and not senders.is_machine(reply_to, dealer):
        # A marketplace writing "on behalf of" puts the customer into Reply-To.
        customer = _person(reply_name, reply_to)
    elif person:
        customer = _person(sender_name, sender)
    else:
        raise Rejected(no_way_to_reach() + " " + _("The sender {sender} is a portal, a no-reply address or "
                                                   "the dealership's own mailer, not the customer.")
                       .format(sender=sender))
    if senders.is_machine(customer.email, dealer):
        customer = replace(customer, email="")
    phones = tuple(PhoneIn(fields[k], kind) for k, kind in (("phone", "voice"), ("mobile", "cellphone"))
                   if fields.get(k))
    found_vehicles = tuple(v for v in (_vehicle_from_labels(fields, dealer),
                                       _trade_in_from_labels(fields)) if v is not None)
    return [("", IncomingLead(customer=customer, message=_message(fields, body), vehicles=found_vehicles,
                              phones=phones, region="", **headers))]


def _message(fields: dict[str, str], body: str) -> str:
    """What the customer wrote, and what else the form told that has no field of its own."""
    lines = [fields.get("message") or body.strip()]
    if fields.get("trade_in"):
        lines.append(_("Trade-in: {vehicle}").format(vehicle=fields["trade_in"]))
    return "\n".join(line for line in lines if line)


def _parts(message: Message) -> tuple[list[str], list[str], list[tuple[str, bytes | str]]]:
    """Readable text, HTML and XML (ADF candidates, with their attachment names) of the mail."""
    texts, htmls, xmls = [], [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind, filename = part.get_content_type(), (part.get_filename() or "")
        attached = part.get_content_disposition() == "attachment"
        if kind in _XML_TYPES or filename.lower().endswith((".xml", ".adf")):
            xmls.append((filename, part.get_payload(decode=True) or b""))
        elif kind == "text/plain" and not attached:
            text = _text(part)
            if text.lstrip("\ufeff \t\r\n").startswith("<"):
                xmls.append((filename, text))     # ADF pasted as the body: text already, whatever it declares
            else:
                texts.append(text)
        elif kind == "text/html" and not attached:
            htmls.append(_text(part))
    return texts, htmls, xmls


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        # An unknown or lying charset: the words are still worth more than a rejection.
        return payload.decode("utf-8", errors="replace")


def _header(message: Message, name: str) -> str:
    """A header as text, RFC 2047 encoded words decoded."""
    raw = message.get(name)
    if raw is None:
        return ""
    try:
        text = str(make_header(decode_header(str(raw))))
    except (ValueError, TypeError, LookupError, IndexError, UnicodeError):
        text = str(raw)
    return re.sub(r"\s+", " ", text).strip()


def _subject(message: Message) -> str:
    subject = _header(message, "subject")
    return subject if len(subject) <= SUBJECT_LIMIT else subject[:SUBJECT_LIMIT - 1].rstrip() + "…"


def _date(message: Message) -> datetime | None:
    try:
        moment = parsedate_to_datetime(_header(message, "date"))
    except (ValueError, TypeError, IndexError):
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


_ADDRESS = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


def _address(message: Message, name: str) -> tuple[str, str]:
    """(display name, lower-case address) of a From / Reply-To header; empty when unreadable."""
    for display, address in getaddresses([_header(message, name)]):
        if _ADDRESS.fullmatch(address or ""):
            return display.strip(), address.lower()
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
        street=fields.get("street", ""), postal_code=fields.get("postal_code", ""), city=fields.get("city", ""),
        country=fields.get("country", ""))


def _person(name: str, email: str) -> ContactInput:
    first, last = adf.split_full_name(name) if name else ("", "")
    return ContactInput(first_name=first, last_name=last, email=email, country="")


_CURRENCY_OF_COUNTRY = {"DE": "EUR", "AT": "EUR", "CH": "CHF", "US": "USD", "CA": "CAD", "GB": "GBP"}


def _currency(text: str, dealer: Dealership) -> str:
    """The price's own currency when it names one; else the dealership's."""
    for mark, code in (("€", "EUR"), ("eur", "EUR"), ("chf", "CHF"), ("cad", "CAD"), ("c$", "CAD"),
                       ("usd", "USD"), ("$", "USD"), ("£", "GBP")):
        if mark in text.lower():
            return code
    return _CURRENCY_OF_COUNTRY.get(dealer.country, "")


def _odometer(text: str) -> tuple[int | None, str]:
    digits = re.sub(r"\D", "", re.split(r"[,.]\d{1,2}\b(?!\d)", text or "")[0])
    units = "mi" if re.search(r"\bmi", (text or "").lower()) else "km" if digits else ""
    return (int(digits) if digits and len(digits) <= 9 else None), units


def _vehicle_from_labels(fields: dict[str, str], dealer: Dealership) -> Vehicle | None:
    named = fields.get("vehicle", "")
    year = parse_year(fields.get("year")) or parse_year(named)
    words = re.sub(r"\b(19|20)\d\d\b", "", named).split()
    make = fields.get("make", "") or (words[0] if words else "")
    model = fields.get("model", "") or " ".join(words[1:] if not fields.get("make") else words)
    odometer, units = _odometer(fields.get("odometer", ""))
    condition = fields.get("condition", "")
    status = status_code(condition) or ("used" if fields.get("year") or odometer else None)
    price = parse_price(fields.get("price"))
    vehicle = Vehicle(
        interest=interest_code(fields.get("interest")) or ("buy" if named or make else None), status=status,
        year=year, make=make, model=model, trim=fields.get("trim", ""), vin=fields.get("vin", ""),
        stock_number=fields.get("stock_number", ""), price=price,
        price_currency=_currency(fields.get("price", ""), dealer) if price is not None else "",
        odometer=odometer, odometer_units=units, condition=condition)
    return None if vehicle.is_empty and vehicle.interest is None else vehicle


def _trade_in_from_labels(fields: dict[str, str]) -> Vehicle | None:
    text = fields.get("trade_in", "")
    if not text:
        return None
    words = re.split(r"[,;]", text)[0].split()
    odometer, units = _odometer(re.search(r"[\d.,]+\s*(km|mi)", text).group(0) if re.search(
        r"[\d.,]+\s*(km|mi)", text) else "")
    return Vehicle(interest="trade_in", status="used", year=parse_year(text), make=words[0] if words else "",
                   model=" ".join(words[1:]), odometer=odometer, odometer_units=units, comments=text)


class _TextOfHtml(HTMLParser):
    """Visible text of an HTML mail: blocks become lines, scripts and styles vanish."""

    # Table cells and definition-list items are lines of their own: a label and its value sit
    # in separate elements, and read_labels pairs a label line with the value line after it.
    _BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul",
               "ol", "blockquote", "section", "article", "header", "footer", "td", "th", "dt", "dd", "dl"}
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
