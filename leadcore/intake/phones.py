"""The country of a phone number from a lead feed, decided the way a careful back office would:
the number's own "+", then the contact's address country, then the vendor's or dealership's
country, then the shape of a North American number. A number whose country stays unknown (or
that is not valid there) is never guessed into a country: it is kept as written and flagged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from leadcore.i18n import _

# Country names feeds write instead of ISO codes (folded: lower case, letters only).
_COUNTRY_NAMES = {
    "usa": "US", "unitedstates": "US", "unitedstatesofamerica": "US", "us": "US", "vereinigtestaaten": "US",
    "canada": "CA", "kanada": "CA", "deutschland": "DE", "germany": "DE", "bundesrepublikdeutschland": "DE",
    "osterreich": "AT", "oesterreich": "AT", "austria": "AT", "schweiz": "CH", "switzerland": "CH",
    "suisse": "CH", "svizzera": "CH", "niederlande": "NL", "netherlands": "NL", "nederland": "NL",
    "belgien": "BE", "belgium": "BE", "frankreich": "FR", "france": "FR", "italien": "IT", "italy": "IT",
    "polen": "PL", "poland": "PL", "danemark": "DK", "denmark": "DK", "luxemburg": "LU", "luxembourg": "LU",
    "unitedkingdom": "GB", "uk": "GB", "grossbritannien": "GB", "spanien": "ES", "spain": "ES",
    "tschechien": "CZ", "czechia": "CZ", "mexico": "MX", "mexiko": "MX",
}
_NANP_REGIONS = ("US", "CA")


@dataclass(frozen=True)
class Resolved:
    raw: str                   # as written
    number: str | None         # E.164, or None: kept raw and flagged
    problem: str = ""


def country_code(text: str | None) -> str:
    """An ISO 3166 code from "US", "usa", "Deutschland", "Schweiz"...; "" when unknown."""
    text = (text or "").strip()
    if len(text) == 2 and text.upper() in phonenumbers.SUPPORTED_REGIONS:
        return text.upper()
    folded = re.sub(r"[^a-z]", "", text.lower().replace("ö", "o").replace("ä", "a").replace("ü", "u"))
    return _COUNTRY_NAMES.get(folded, "")


def _valid(raw: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _nanp_shape(raw: str) -> str | None:
    """A 10-digit number (or 1 + 10 digits) valid in the US or Canada: its country is +1."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or re.sub(r"[\d\s().\-/]", "", raw):
        return None
    for region in _NANP_REGIONS:
        if (found := _valid(digits, region)) is not None:
            return found
    return None


def resolve(raw: str, countries: list[str]) -> Resolved:
    """The number in E.164 when its country is known and it is valid there; else raw + problem.
    `countries`: ISO codes in the order of trust (contact's address, vendor, dealership)."""
    raw = " ".join((raw or "").split())
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 3:
        return Resolved(raw, None, _("Phone as sent is not a number: {raw}").format(raw=raw))
    if raw.startswith(("+", "00")):
        own = _valid("+" + raw.lstrip("+")[2:] if raw.startswith("00") else raw, None)
        if own is not None:
            return Resolved(raw, own)
        return Resolved(raw, None, _("Phone as sent is not a valid number: {raw}").format(raw=raw))
    for region in dict.fromkeys(c for c in countries if c):
        if (found := _valid(raw, region)) is not None:
            return Resolved(raw, found)
    if (found := _nanp_shape(raw)) is not None:
        return Resolved(raw, found)
    if any(countries):
        return Resolved(raw, None, _("Phone as sent is not a valid number in {country}: {raw}").format(
            country=next(c for c in countries if c), raw=raw))
    return Resolved(raw, None, _("Phone as sent has no known country: {raw}").format(raw=raw))


def may_reach(resolved: Resolved) -> bool:
    """A number kept raw may still be dialled by a person when it has a number's length."""
    return resolved.number is not None or 7 <= len(re.sub(r"\D", "", resolved.raw)) <= 15
