"""ADF (Auto-lead Data Format 1.0) into an IncomingLead: `adf/prospect` with requestdate, id,
vehicle, customer/contact, vendor and provider.

Safe: defusedxml refuses entity declarations (billion laughs) and external entities before
anything is expanded or fetched. Lenient: real feeds leave elements out, add their own, use
namespaces or odd letter case; unknown elements are ignored, missing ones stay empty. A file
with several prospects becomes one lead, of the first.
"""
from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from leadcore.contacts.service import ContactInput
from leadcore.i18n import _
from leadcore.intake.incoming import IncomingLead, Rejected
from leadcore.leads.vehicles import Vehicle, interest_code, interest_label, parse_price, parse_year, status_code

_MOBILE_TYPES = {"cellphone", "cell", "mobile", "mobil", "handy"}
_IGNORED_PHONE_TYPES = {"fax", "pager"}


def looks_like_xml(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


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


def parse_xml(data: bytes) -> Element:
    """The document's root element; Rejected for XML that is unsafe or broken."""
    try:
        return fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise Rejected(_("The XML declares entities or external references (as XML bombs do); "
                         "it was refused unread.")) from None
    except ParseError as error:
        raise Rejected(_("The XML is broken ({error}).").format(error=error)) from None


def parse_moment(text: str, tz: ZoneInfo) -> datetime | None:
    """ISO 8601 (with or without offset; without, the dealership's time) or an RFC 2822 date."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


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
    ident = _child(prospect, "id")
    value, id_source = _text(ident), _attr(ident, "source")
    provider = _child(prospect, "provider")
    provider_names = tuple(dict.fromkeys(
        n for n in (_text(_child(provider, "name")), id_source, _attr(_child(provider, "id"), "source")) if n))
    customer = _child(prospect, "customer")
    vehicle, other_vehicles = _vehicles(prospect)
    message = [_text(_child(customer, "comments"))]
    timeframe = _text(_child(_child(customer, "timeframe"), "description"))
    if timeframe:
        message.append(_("Timeframe: {text}").format(text=timeframe))
    for other in other_vehicles:
        message.append((interest_label(other.interest) or _("Vehicle")) + f": {other.description}")
    return IncomingLead(
        customer=_customer(_contact(customer)),
        subject=_subject(vehicle, provider_names),
        message="\n".join(m for m in message if m),
        arrived_at=parse_moment(_text(_child(prospect, "requestdate")), tz),
        vehicle=vehicle,
        external_id=(f"{id_source}/{value}" if id_source else value)[:200] or None,
        provider_names=provider_names,
    )


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
    phone = mobile = ""
    for number in _children(contact, "phone"):
        kind = _attr(number, "type").lower()
        if kind in _IGNORED_PHONE_TYPES:
            continue
        if kind in _MOBILE_TYPES:
            mobile = mobile or _text(number)
        elif not phone:
            phone = _text(number)
        else:
            mobile = mobile or _text(number)
    emails = _children(contact, "email")
    preferred = [e for e in emails if _attr(e, "preferredcontact") == "1"]
    address = _child(contact, "address")
    street = " ".join(_text(s) for s in _children(address, "street") + _children(address, "apartment") if _text(s))
    return ContactInput(
        salutation=parts.get("salutation", "") or parts.get("title", ""),
        first_name=" ".join(p for p in (first, parts.get("middle", "")) if p), last_name=last,
        company=company, email=_text((preferred or emails or [None])[0]), phone=phone, mobile=mobile,
        street=street, postal_code=_text(_child(address, "postalcode")), city=_text(_child(address, "city")),
        country=_text(_child(address, "country")) or "DE")


def split_full_name(full: str) -> tuple[str, str]:
    """"Max Mustermann" and "Mustermann, Max" as (first, last)."""
    full = re.sub(r"\s+", " ", full).strip()
    if "," in full:
        last, _comma, first = full.partition(",")
        return first.strip(), last.strip()
    first, _space, last = full.rpartition(" ")
    return first, last


def _vehicles(prospect: Element) -> tuple[Vehicle | None, list[Vehicle]]:
    """The vehicle the request is about, and the others (a trade-in offered alongside)."""
    found = [_vehicle(v) for v in _children(prospect, "vehicle")]
    if not found:
        return None, []
    wanted = next((v for v in found if v.interest != "trade_in"), found[0])
    return wanted, [v for v in found if v is not wanted]


def _vehicle(element: Element) -> Vehicle:
    price = _child(element, "price")
    model = " ".join(p for p in (_text(_child(element, "model")), _text(_child(element, "trim"))) if p)
    return Vehicle(
        interest=interest_code(_attr(element, "interest")), status=status_code(_attr(element, "status")),
        year=parse_year(_text(_child(element, "year"))), make=_text(_child(element, "make")), model=model,
        vin=_text(_child(element, "vin")), stock_number=_text(_child(element, "stock")),
        price=parse_price(_text(price)), price_currency=_attr(price, "currency").upper()[:3],
        comments=_text(_child(element, "comments")))


def _subject(vehicle: Vehicle | None, provider_names: tuple[str, ...]) -> str:
    if vehicle is not None and vehicle.description:
        return (interest_label(vehicle.interest) or _("Request")) + f": {vehicle.description}"
    if provider_names:
        return _("Request from {provider}").format(provider=provider_names[0])
    return _("Lead request")
