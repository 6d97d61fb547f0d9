"""ADF (Auto-lead Data Format 1.0) into an IncomingLead: `adf/prospect` with requestdate, id,
vehicle, customer/contact, vendor and provider.

Safe: a DTD that declares anything is refused unread, and defusedxml refuses entities and
external references before anything is expanded or fetched. Lenient as real files need: the
bytes decide the encoding (BOM, UTF-8, else Windows-1252) whatever the declaration says, the
XML and ADF declaration lines are dropped in any letter case and with typographic quotes,
elements may be missing, extra, namespaced or upper case. Nothing the customer or provider
wrote is dropped: every vehicle (trade-in too), phone (with type and time), comment, the
timeframe, provider and vendor. A file with several prospects becomes one lead, of the first.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from leadcore.contacts.service import ContactInput
from leadcore.i18n import _
from leadcore.intake import phones
from leadcore.intake.incoming import IncomingLead, Origin, PhoneIn, Rejected
from leadcore.leads.vehicles import (
    OWN_VEHICLE,
    Vehicle,
    interest_code,
    interest_label,
    parse_price,
    parse_year,
    status_code,
)


def looks_like_xml(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<") or head[:2] in (b"\xff\xfe", b"\xfe\xff")


def _name(element: Element) -> str:
    """The local, lower-case tag name: namespaces and letter case vary between feeds."""
    return element.tag.rsplit("}", 1)[-1].lower() if isinstance(element.tag, str) else ""


def _children(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else [child for child in element if _name(child) == name]


def _child(element: Element | None, name: str) -> Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _text(element: Element | None) -> str:
    return "" if element is None else re.sub(r"\s+", " ", "".join(element.itertext())).strip()


def _attr(element: Element | None, name: str) -> str:
    if element is None:
        return ""
    return next((v.strip() for k, v in element.attrib.items() if k.rsplit("}", 1)[-1].lower() == name), "")


def decode(data: bytes | str) -> str:
    """The file's text. Real files lie about their encoding (UTF-8 bytes declared utf-16,
    Windows-1252 bytes declared UTF-8), so the bytes decide: a BOM, else UTF-8 when the bytes are
    valid UTF-8, else Windows-1252 (never "J\ufffdrg"). ADF pasted into a mail body is text already."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# The XML declaration and the <?ADF VERSION "1.0"?> line as feeds write them: any letter case,
# typographic quotes, an encoding that means nothing once the text is decoded.
_PROLOG_PI = re.compile(r"\A(?:\s*<\?(?:xml|adf)\b[^>]*?\?>)+\s*", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!DOCTYPE\b[^\[>]*(\[(?P<subset>.*?)\])?\s*>", re.IGNORECASE | re.DOTALL)


def _prepared(data: bytes | str) -> str:
    text = _PROLOG_PI.sub("", decode(data).lstrip())
    doctype = _DOCTYPE.search(text[:4096])
    if doctype and (doctype.group("subset") or "").strip():
        if re.search(r"<!ENTITY", doctype.group("subset"), re.IGNORECASE):
            raise Rejected(_("The XML declares entities (as XML bombs do); it was refused unread."))
        raise Rejected(_("The XML's document type declaration (DTD) declares elements or attributes "
                         "that could change the file; it was refused unread."))
    return text


def parse_xml(data: bytes | str) -> Element:
    """The document's root element; Rejected for XML that is unsafe or broken."""
    text = _prepared(data)
    try:
        return fromstring(text, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise Rejected(_("The XML declares entities or external references (as XML bombs do); "
                         "it was refused unread.")) from None
    except ParseError as error:
        raise Rejected(_("The XML is broken ({error}).").format(error=error)) from None


# 2024-03-05T8:47:50-05:00, 2000-03-30T15:30:20-08:0, 2024-03-07T9:05:00, 2024-03-05, ... Z
_MOMENT = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,]\d+)?)?)?"
                     r"\s*(Z|[+-]\d{1,2}(?::?\d{0,2}))?", re.IGNORECASE)


def parse_moment(text: str, tz: ZoneInfo) -> datetime | None:
    """A request date as feeds write it: ISO 8601 with one-digit hours or short offsets, date
    only (midnight), without offset (the dealership's zone), or an RFC 2822 date. None when it
    cannot be read."""
    text = (text or "").strip()
    if not text:
        return None
    match = _MOMENT.fullmatch(text)
    if match:
        year, month, day, hour, minute, second, offset = match.groups()
        try:
            moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
            zone = tz if offset is None else _offset(offset)
        except ValueError:
            return None
        return moment.replace(tzinfo=zone)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _offset(text: str) -> tzinfo:
    if text.upper() == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    hours, _colon, minutes = text[1:].partition(":")
    if not _colon and len(hours) > 2:
        hours, minutes = hours[:2], hours[2:]
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))


def is_adf(root: Element) -> bool:
    return _name(root) in ("adf", "prospect")


def parse_adf(data: bytes, tz: ZoneInfo) -> IncomingLead:
    root = parse_xml(data)
    if not is_adf(root):
        raise Rejected(_("The XML is not an ADF lead: its root element is <{name}>, not <adf>.")
                       .format(name=_name(root)[:40]))
    return from_root(root, tz)


def from_root(root: Element, tz: ZoneInfo) -> IncomingLead:
    prospect = root if _name(root) == "prospect" else _child(root, "prospect")
    if prospect is None:
        raise Rejected(_("The ADF file has no <prospect>: there is no request in it."))
    origin = _origin(prospect)
    ident = _child(prospect, "id")
    value, id_source = _text(ident), _attr(ident, "source")
    provider_name = origin.provider_name or id_source
    customer = _child(prospect, "customer")
    contact = _contact(customer)
    found = tuple(_vehicle(v) for v in _children(prospect, "vehicle"))
    written = _text(_child(prospect, "requestdate"))
    arrived_at = parse_moment(written, tz)
    flags = []
    if written and arrived_at is None:
        origin = replace(origin, request_date_text=written[:200])
        flags.append(_("The request date could not be read ({text}); arrival is the intake time.")
                     .format(text=written[:60]))
    timeframe = _timeframe(_child(customer, "timeframe"))
    message = [_text(_child(customer, "comments")), _text(_child(contact, "comment"))]
    if timeframe:
        message.append(_("Timeframe: {text}").format(text=timeframe))
    # The customer's own vehicle is a vehicle of its own on the lead, and named in the note too.
    message += [f"{interest_label(v.interest)}: {v.description}" for v in found
                if v.interest in OWN_VEHICLE and v.description]
    incoming = IncomingLead(
        customer=_customer(contact),
        subject=_subject(found, provider_name),
        message="\n".join(m for m in message if m),
        arrived_at=arrived_at,
        vehicles=found,
        # An empty id identifies nothing: it never makes a message a resend.
        external_id=(f"{provider_name}/{id_source}/{value}"[:300] if value else None),
        provider_names=(provider_name,) if provider_name else (),
        phones=tuple(PhoneIn(_text(p), _attr(p, "type").lower(), _attr(p, "time").lower())
                     for p in _children(contact, "phone") if _text(p)),
        origin=replace(origin, timeframe=timeframe),
        region=_text(_child(_child(contact, "address"), "regioncode")),
        flags=tuple(flags))
    return incoming


def _contact(customer: Element | None) -> Element | None:
    found = _children(customer, "contact")
    primary = [c for c in found if _attr(c, "primarycontact") == "1"]
    return (primary or found or [None])[0]


def _customer(contact: Element | None) -> ContactInput:
    parts: dict[str, str] = {}
    company = ""
    for name in _children(contact, "name"):
        if _attr(name, "type").lower() == "business":
            company = company or _text(name)
            continue
        parts.setdefault(_attr(name, "part").lower() or "full", _text(name))
    first, last = parts.get("first", ""), parts.get("last", "")
    if not (first or last) and parts.get("full"):
        first, last = split_full_name(parts["full"])
    emails = _children(contact, "email")
    preferred = [e for e in emails if _attr(e, "preferredcontact") == "1"]
    address = _child(contact, "address")
    street = " ".join(_text(s) for s in _children(address, "street") + _children(address, "apartment") if _text(s))
    return ContactInput(
        salutation=parts.get("salutation", "") or parts.get("title", ""),
        first_name=" ".join(p for p in (first, parts.get("middle", "")) if p), last_name=last,
        company=company, email=_text((preferred or emails or [None])[0]),
        street=street, postal_code=_text(_child(address, "postalcode")), city=_text(_child(address, "city")),
        country=_text(_child(address, "country")))


def split_full_name(full: str) -> tuple[str, str]:
    """"Max Mustermann", "Mustermann, Max" and "Dr. Anna Maria Weber" as (first, last)."""
    full = re.sub(r"\s+", " ", full).strip()
    if "," in full:
        last, _comma, first = full.partition(",")
        return first.strip(), last.strip()
    words = [w for w in full.split(" ") if w.lower().rstrip(".") not in _NAME_TITLES]
    if len(words) > 1 and words[-1].lower().rstrip(".") in _NAME_SUFFIXES:
        words = words[:-1]
    if len(words) <= 1:
        return "", " ".join(words)
    return " ".join(words[:-1]), words[-1]


_NAME_TITLES = {"herr", "frau", "mr", "mrs", "ms", "miss", "dr", "prof"}
_NAME_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


def _timeframe(element: Element | None) -> str:
    description = _text(_child(element, "description"))
    earliest, latest = _text(_child(element, "earliestdate")), _text(_child(element, "latestdate"))
    dates = " – ".join(d for d in (earliest, latest) if d)
    return " ".join(p for p in (description, f"({dates})" if dates else "") if p)


def _origin(prospect: Element) -> Origin:
    provider, vendor = _child(prospect, "provider"), _child(prospect, "vendor")
    vendor_contact = _child(vendor, "contact")
    return Origin(
        provider_name=_text(_child(provider, "name")), provider_service=_text(_child(provider, "service")),
        provider_url=_text(_child(provider, "url")),
        provider_email=_text(_child(provider, "email")) or _text(_child(_child(provider, "contact"), "email")),
        provider_phone=_text(_child(provider, "phone")),
        vendor_name=_text(_child(vendor, "vendorname")) or _text(_child(vendor_contact, "name")),
        vendor_country=phones.country_code(_text(_child(_child(vendor_contact, "address"), "country"))))


def _vehicle(element: Element) -> Vehicle:
    price = _child(element, "price")
    odometer = _child(element, "odometer")
    miles = re.sub(r"[^\d]", "", _text(odometer).split(".")[0])
    comments = [_text(_child(element, "comments")), _text(_child(element, "pricecomments"))]
    return Vehicle(
        # The ADF DTD's defaults: interest "buy", status "new".
        interest=interest_code(_attr(element, "interest") or "buy"),
        status=status_code(_attr(element, "status") or "new"),
        year=parse_year(_text(_child(element, "year"))), make=_text(_child(element, "make")),
        model=_text(_child(element, "model")), trim=_text(_child(element, "trim")),
        vin=_text(_child(element, "vin")), stock_number=_text(_child(element, "stock")),
        price=parse_price(_text(price)), price_currency=_attr(price, "currency").upper()[:3],
        price_type=_attr(price, "type").lower(),
        odometer=int(miles) if miles and len(miles) <= 9 else None,
        odometer_units=_attr(odometer, "units").lower(), condition=_text(_child(element, "condition")),
        colors=_colors(element), finance=_finance(_child(element, "finance")),
        comments="\n".join(c for c in comments if c))


def _colors(element: Element) -> str:
    combos = []
    for combo in _children(element, "colorcombination"):
        outside, inside = _text(_child(combo, "exteriorcolor")), _text(_child(combo, "interiorcolor"))
        text = " / ".join(p for p in (outside, inside) if p)
        if text:
            combos.append((_text(_child(combo, "preference")) or "9", text))
    return "; ".join(text for _p, text in sorted(combos, key=lambda c: c[0]))


def _finance(element: Element | None) -> str:
    if element is None:
        return ""
    parts = [_text(_child(element, "method"))]
    for amount in _children(element, "amount") + _children(element, "balance"):
        label = _attr(amount, "type") or _name(amount)
        limit = _attr(amount, "limit")
        parts.append(" ".join(p for p in (f"{label}:", _text(amount), _attr(amount, "currency").upper(),
                                          f"({limit})" if limit and limit != "exact" else "") if p))
    return "; ".join(p for p in parts if p)


def _subject(found: tuple[Vehicle, ...], provider_name: str) -> str:
    wanted = [v for v in found if v.interest not in OWN_VEHICLE] or list(found)
    if wanted and wanted[0].description:
        return (interest_label(wanted[0].interest) or _("Request")) + f": {wanted[0].description}"
    if provider_name:
        return _("Request from {provider}").format(provider=provider_name)
    return _("Lead request")
