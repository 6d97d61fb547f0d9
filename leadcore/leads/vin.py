"""Vehicle identification numbers: checked (ISO 3779 form, check digit where the law asks for
one) and decoded offline with vininfo into manufacturer and model year.

An invalid VIN is information too (a typo the seller can ask about): callers keep the text and
show the problem, they never refuse a lead for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from vininfo import Vin
from vininfo.exceptions import VininfoException

from leadcore.i18n import _

LENGTH = 17
_ALLOWED = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
# Position 10 (model year) letters, 1980 onwards; the sequence repeats every 30 years.
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
_TRANSLITERATION = {**{str(d): d for d in range(10)},
                    **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))),
                    "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# North America (1-5) and China (L) make the check digit (position 9) mandatory; European
# makers mostly fill it freely, so checking theirs would flag good VINs.
_CHECK_DIGIT_REGIONS = tuple("12345L")
_NORTH_AMERICA = "12345"


@dataclass(frozen=True)
class VinCheck:
    vin: str                       # as sent: upper case, blanks and hyphens removed
    valid: bool
    problem: str = ""              # why not valid, a sentence for the seller
    manufacturer: str = ""         # decoded; empty when the maker is unknown
    model_year: int | None = None


def normalise(text: str) -> str:
    return re.sub(r"[\s\-]", "", text or "").upper()


def check_digit(vin: str) -> str:
    """The check digit (0-9 or X) the other 16 characters call for."""
    total = sum(_TRANSLITERATION[ch] * weight for ch, weight in zip(vin, _WEIGHTS))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def model_year(vin: str, today: date) -> int | None:
    """The model year position 10 stands for. North American VINs (49 CFR 565) say which 30-year
    cycle: a digit in position 7 means 1980-2009, a letter 2010-2039. Elsewhere the latest year
    the code can stand for, not after next year."""
    code = vin[9]
    if code not in _YEAR_CODES:
        return None
    year = 1980 + _YEAR_CODES.index(code)
    if vin[0] in _NORTH_AMERICA:
        return year if vin[6].isdigit() else year + 30
    while year + 30 <= today.year + 1:
        year += 30
    return year


def check_vin(text: str, today: date) -> VinCheck:
    """Check and decode a VIN; `today` bounds the model year (the rules never read the clock)."""
    vin = normalise(text)
    if len(vin) != LENGTH:
        return VinCheck(vin, False, _("A VIN has 17 characters, this one has {n}.").format(n=len(vin)))
    if not _ALLOWED.fullmatch(vin):
        bad = sorted({ch for ch in vin if ch in "IOQ" or not ch.isalnum()})
        return VinCheck(vin, False, _("A VIN never contains {chars} (I, O and Q look like 1 and 0).")
                        .format(chars=", ".join(bad)))
    if vin.startswith(_CHECK_DIGIT_REGIONS) and vin[8] != check_digit(vin):
        return VinCheck(vin, False, _("The check digit (9th character) should be {digit}; the VIN "
                                      "has a typo.").format(digit=check_digit(vin)))
    try:
        manufacturer = Vin(vin).manufacturer
    except VininfoException:
        manufacturer = ""
    if manufacturer == "UnsupportedBrand":
        manufacturer = ""
    return VinCheck(vin, True, "", manufacturer, model_year(vin, today))
