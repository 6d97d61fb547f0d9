"""What a parsed lead message says, before anything is stored: the customer, the request and
its vehicle, where it came from. Parsers (adf, mail) produce it or raise Rejected."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from leadcore.contacts import service as contacts
from leadcore.contacts.service import ContactInput
from leadcore.errors import ValidationErrors
from leadcore.i18n import _
from leadcore.intake import phones
from leadcore.leads import vehicles
from leadcore.leads.vehicles import Vehicle


class Rejected(Exception):
    """A message that cannot become a lead; the reason is a sentence for the intake report."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


def no_way_to_reach() -> str:
    return _("There is no way to reach the customer: no valid e-mail address or phone number.")


@dataclass(frozen=True)
class PhoneIn:
    """A phone number as the feed wrote it, with its ADF type (voice, cellphone, fax) and time."""
    raw: str
    kind: str = ""
    time: str = ""


@dataclass(frozen=True)
class Origin:
    """Who sent the request on whose behalf: the ADF provider and vendor (the dealer location)."""
    provider_name: str = ""
    provider_service: str = ""
    provider_url: str = ""
    provider_email: str = ""
    provider_phone: str = ""
    vendor_name: str = ""
    vendor_country: str = ""
    timeframe: str = ""
    request_date_text: str = ""          # set when the request date could not be read

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f) for f in self.__dataclass_fields__ if f != "vendor_country")


@dataclass(frozen=True)
class IncomingLead:
    customer: ContactInput
    subject: str = ""
    message: str = ""                       # what the customer wrote: the lead's note
    arrived_at: datetime | None = None      # ADF requestdate or the mail's Date
    vehicles: tuple[Vehicle, ...] = ()      # wanted ones first as sent; trade-in / sell ones too
    external_id: str | None = None          # "provider/id source/value"; None when the id is empty
    provider_names: tuple[str, ...] = ()    # ADF provider name (else id source): decides the source
    sender: str = ""                        # the mail's From address, lower case
    message_id: str | None = None
    notes: tuple[str, ...] = field(default=())   # what the desk should know about the parsing
    phones: tuple[PhoneIn, ...] = ()        # every phone as sent; customer.phone/mobile get the valid ones
    origin: Origin = field(default_factory=Origin)
    region: str = ""                        # the address's state / province (ADF regioncode)
    flags: tuple[str, ...] = ()             # what the desk must check (raw phone, VIN year, date...)
    phone_problems: tuple[tuple[str, str | None, str], ...] = ()   # (raw, E.164 or None, problem) per phone
    part: str = ""                          # the attachment this lead came from, in a mail of several
    named: bool = True                      # the feed named the customer (else a stand-in name)

    @property
    def vehicle(self) -> Vehicle | None:
        """The vehicle the request is about: the first the customer wants, else the first."""
        wanted = [v for v in self.vehicles if v.interest not in vehicles.OWN_VEHICLE]
        return (wanted or list(self.vehicles) or [None])[0]


_MOBILE_KINDS = {"cellphone", "cell", "mobile", "mobil", "handy"}
_NOT_FOR_TALKING = {"fax", "pager"}


def reachable_customer(incoming: IncomingLead, dealer_country: str = "") -> IncomingLead:
    """The customer validated as the contact form would, each phone in its own country (or kept
    raw and flagged); a bad e-mail is dropped and flagged instead of failing the lead. Rejected
    when nothing is left to reach the customer by."""
    data, notes, flags = incoming.customer, list(incoming.notes), list(incoming.flags)
    country = phones.country_code(data.country)
    written = list(incoming.phones) or [PhoneIn(p, k) for p, k in ((data.phone, "voice"), (data.mobile, "cellphone")) if p]
    resolved = [(p, phones.resolve(p.raw, [country, incoming.origin.vendor_country, dealer_country]))
                for p in written]
    talk = [(p, r) for p, r in resolved if p.kind.lower() not in _NOT_FOR_TALKING]
    valid = [(p, r.number) for p, r in talk if r.number]
    mobile = next((n for p, n in valid if p.kind.lower() in _MOBILE_KINDS), "")
    phone = next((n for p, n in valid if n != mobile), "")
    flags += [r.problem for _p, r in resolved if r.problem]
    data = replace(data, phone=phone, mobile=mobile, country=country or "")
    named = bool(data.last_name.strip() or data.company.strip() or data.first_name.strip())
    if not (data.last_name.strip() or data.company.strip()):
        # Feeds often send a first name only, or nothing but an address to answer to.
        stand_in = data.first_name or data.email or next((r.raw for _p, r in talk), "")
        data = replace(data, first_name="" if stand_in == data.first_name else data.first_name,
                       last_name=stand_in.strip())
    data = replace(data, **{name: (getattr(data, name) or "").strip()[:contacts.FIELD_LIMIT]
                            for name in ("salutation", "first_name", "last_name", "company", "street",
                                         "postal_code", "city", "country")})
    while True:
        try:
            clean = contacts.validate(data)
            break
        except ValidationErrors as errors:
            bad = {e.field for e in errors.errors}
            droppable = bad & {"email", "phone", "mobile"}
            if bad - droppable:
                raise Rejected(_("The customer's data is not usable: {why}").format(why=errors.message)) from None
            for name in sorted(droppable):
                flags.append(_("{field} as sent (not valid): {value}").format(
                    field=_(contacts.LABELS[name]), value=getattr(data, name)))
            data = replace(data, **{name: "" for name in droppable})
    if not (clean.email or any(phones.may_reach(r) for _p, r in talk)):
        raise Rejected(no_way_to_reach())
    clean = replace(clean, country=country)
    problems = tuple((r.raw, r.number, r.problem) for _p, r in resolved)
    kept = tuple(PhoneIn(p.raw, p.kind, p.time) for p, _r in resolved)
    return replace(incoming, customer=clean, notes=tuple(notes), flags=tuple(dict.fromkeys(flags)),
                   phones=kept, phone_problems=problems, named=named)
