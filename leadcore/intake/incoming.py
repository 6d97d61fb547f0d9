"""What a parsed lead message says, before anything is stored: the customer, the request and
its vehicle, where it came from. Parsers (adf, mail) produce it or raise Rejected."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from leadcore.contacts import service as contacts
from leadcore.contacts.service import ContactInput
from leadcore.errors import ValidationErrors
from leadcore.i18n import _
from leadcore.leads.vehicles import Vehicle


class Rejected(Exception):
    """A message that cannot become a lead; the reason is a sentence for the intake report."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


def no_way_to_reach() -> str:
    return _("There is no way to reach the customer: no valid e-mail address or phone number.")


@dataclass(frozen=True)
class IncomingLead:
    customer: ContactInput
    subject: str = ""
    message: str = ""                       # what the customer wrote: the lead's note
    arrived_at: datetime | None = None      # ADF requestdate or the mail's Date
    vehicle: Vehicle | None = None
    external_id: str | None = None          # ADF prospect id
    provider_names: tuple[str, ...] = ()    # ADF provider name, id sources: maybe a source's name
    sender: str = ""                        # the mail's From address, lower case
    message_id: str | None = None
    notes: tuple[str, ...] = field(default=())   # what the desk should know about the parsing


def reachable_customer(incoming: IncomingLead) -> IncomingLead:
    """The customer validated as the contact form would; fields that fail are dropped (and named
    in the notes) instead of failing the lead. Rejected when no e-mail or phone is left."""
    data, notes = incoming.customer, list(incoming.notes)
    if not any((value or "").strip() for value in (data.email, data.phone, data.mobile)):
        raise Rejected(no_way_to_reach())
    if not (data.last_name.strip() or data.company.strip()):
        # Feeds often send a first name only, or nothing but an address to answer to.
        stand_in = data.first_name or data.email or data.phone or data.mobile
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
                notes.append(_("{field} as sent (not valid): {value}").format(
                    field=_(contacts.LABELS[name]), value=getattr(data, name)))
            data = replace(data, **{name: "" for name in droppable})
    if not (clean.email or clean.phone or clean.mobile):
        raise Rejected(no_way_to_reach())
    return replace(incoming, customer=clean, notes=tuple(notes))
