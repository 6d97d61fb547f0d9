"""Input hygiene, once for every service: text a person could not have meant (control characters,
line breaks in a name, lone surrogates, only invisible characters), dates outside the years a
dealership works in, and numbers that do not fit their column.

Every check appends a ValidationError naming the field to the caller's list and returns the
cleaned value, so a form shows all its problems at once. Why refuse rather than strip: a line
break in a name ends up in a mail header, where it makes the mail fail for good (or worse), and
text that only looks empty is a mistake its author should see.
"""
from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from leadcore.errors import ValidationError, ValidationErrors
from leadcore.i18n import _

FIRST_YEAR, LAST_YEAR = 1900, 2100
BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1
# Characters that take no room on screen; text of only these (and spaces) reads as empty.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2800\u3164\u115f\u1160")


def _problem(value: str, multiline: bool) -> str | None:
    """Why the text cannot be stored, or None."""
    for ch in value:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return _("{field} contains a broken character (a lone surrogate); type it again.")
        if multiline and ch in "\r\n\t":
            continue
        category = unicodedata.category(ch)
        if ch in "\r\n\u2028\u2029\x85" or category in ("Zl", "Zp"):
            return _("{field} cannot contain line breaks.")
        if category == "Cc":
            return _("{field} contains a control character; remove it.")
    return None


def is_blank(value: str) -> bool:
    """True for text that shows nothing: spaces and invisible characters only."""
    return all(ch.isspace() or ch in _INVISIBLE or unicodedata.category(ch) == "Cf" for ch in value)


def check_text(errors: list, field: str, label: str, value: str | None, *, required: bool = False,
               limit: int | None = None, multiline: bool = False) -> str:
    """The text trimmed; an error for control characters (line breaks unless multiline), lone
    surrogates, invisible-only text, a missing required value or one over `limit` characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(ValidationError(field, _("{field} must be text.").format(field=label)))
        return ""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.strip()
    problem = _problem(value, multiline)
    if problem:
        errors.append(ValidationError(field, problem.format(field=label)))
        return value
    if value and is_blank(value):
        errors.append(ValidationError(field, _("{field} contains only invisible characters.").format(field=label)))
        return value
    if required and not value:
        errors.append(ValidationError(field, _("{field} is required.").format(field=label)))
    elif limit is not None and len(value) > limit:
        errors.append(ValidationError(field, _("{field} can have at most {n} characters.").format(
            field=label, n=f"{limit:,}")))
    return value


def check_plain(errors: list, field: str, label: str, value: str | None, multiline: bool = False) -> None:
    """Only the character checks (for text whose required/length rules live with the caller)."""
    problem = _problem(value or "", multiline)
    if problem:
        errors.append(ValidationError(field, problem.format(field=label)))
    elif value and value.strip() and is_blank(value):
        errors.append(ValidationError(field, _("{field} contains only invisible characters.").format(field=label)))


def check_year(errors: list, field: str, label: str, value: date | datetime | None) -> bool:
    """True when the date is within the years leadcore plans in (1900-2100)."""
    if value is None:
        return True
    if not isinstance(value, date):
        errors.append(ValidationError(field, _("{field} must be a date.").format(field=label)))
        return False
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        errors.append(ValidationError(field, _("{field} must be between the years {first} and {last}.")
                                      .format(field=label, first=FIRST_YEAR, last=LAST_YEAR)))
        return False
    return True


def check_int(errors: list, field: str, label: str, value: object, low: int = 1,
              high: int = BIGINT_MAX) -> bool:
    """True when value is a whole number in [low, high] (ids: 1 .. the BIGINT maximum)."""
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(ValidationError(field, _("{field} must be a whole number.").format(field=label)))
        return False
    if not low <= value <= high:
        errors.append(ValidationError(field, _("{field} must be between {low} and {high}.").format(
            field=label, low=f"{low:,}", high=f"{high:,}")))
        return False
    return True


def valid_id(value: object) -> bool:
    """A value that can be a row id (so a lookup may bind it without DuckDB refusing the number)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= BIGINT_MAX


def valid_ids(values) -> bool:
    return all(valid_id(v) for v in values)


def check_decimal(errors: list, field: str, label: str, value: object, low: Decimal,
                  high: Decimal) -> bool:
    if value is None:
        return True
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or not low <= number <= high:
        errors.append(ValidationError(field, _("{field} must be between {low} and {high}.").format(
            field=label, low=f"{low:,}", high=f"{high:,}")))
        return False
    return True


def raise_if(errors: list) -> None:
    if errors:
        raise ValidationErrors(errors)
