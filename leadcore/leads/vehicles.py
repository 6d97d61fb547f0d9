"""The vehicle of interest of a lead: what the customer asks about (make, model, year, VIN,
stock number, price) and why (buy, lease, trade-in, test drive). Read leniently from feeds,
kept in the lead's vehicle_* columns, shown on the lead detail."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import duckdb

from leadcore.auth import User
from leadcore.i18n import N_, _
from leadcore.leads import vin as vins
from leadcore.leads.visibility import require_visible

INTERESTS = {"buy": N_("Buy"), "lease": N_("Lease"), "trade_in": N_("Trade-in"),
             "sell": N_("Sell"), "test_drive": N_("Test drive")}
# The customer's own vehicle (offered in part exchange, or for sale outright), not one they want.
OWN_VEHICLE = frozenset({"trade_in", "sell"})
STATUSES = {"new": N_("New"), "used": N_("Used")}
TEXT_LIMIT = 200
COMMENTS_LIMIT = 2_000
PRICE_LIMIT = Decimal("9999999999.99")     # DECIMAL(12, 2)
# What feeds and forms write for an interest (ADF: buy, lease, sell, trade-in, test-drive; German
# marketplaces their own words), folded to lower-case letters only.
_INTEREST_WORDS = {
    "buy": "buy", "purchase": "buy", "kauf": "buy", "kaufen": "buy", "kaufinteresse": "buy",
    "lease": "lease", "leasing": "lease", "finanzierung": "lease", "finance": "lease",
    "sell": "sell", "ankauf": "sell", "tradein": "trade_in", "inzahlungnahme": "trade_in", "verkauf": "trade_in",
    "testdrive": "test_drive", "probefahrt": "test_drive",
}
_STATUS_WORDS = {"new": "new", "neu": "new", "neuwagen": "new",
                 "used": "used", "gebraucht": "used", "gebrauchtwagen": "used"}


@dataclass(frozen=True)
class Vehicle:
    interest: str | None = None        # a key of INTERESTS
    status: str | None = None          # a key of STATUSES
    year: int | None = None
    make: str = ""
    model: str = ""
    vin: str = ""
    stock_number: str = ""
    price: Decimal | None = None
    price_currency: str = ""
    comments: str = ""
    trim: str = ""
    price_type: str = ""               # ADF: quote, offer, msrp, invoice, call, appraisal, asking
    odometer: int | None = None
    odometer_units: str = ""
    condition: str = ""
    colors: str = ""
    finance: str = ""
    year_conflict: bool = False        # the VIN's model year contradicts `year`
    # Filled by `checked` from the VIN:
    vin_valid: bool | None = None
    vin_problem: str = ""
    vin_manufacturer: str = ""
    vin_model_year: int | None = None

    @property
    def description(self) -> str:
        """"2021 Volkswagen Golf", or what of it is known."""
        return " ".join(str(p) for p in (self.year, self.make, self.model, self.trim) if p)

    @property
    def is_empty(self) -> bool:
        return not (self.description or self.vin or self.stock_number or self.price is not None)


# Vehicle field -> its column on leads.
COLUMN_OF = {"interest": "vehicle_interest", "status": "vehicle_status", "year": "vehicle_year",
             "make": "vehicle_make", "model": "vehicle_model", "vin": "vehicle_vin",
             "stock_number": "vehicle_stock", "price": "vehicle_price", "price_currency": "vehicle_currency",
             "comments": "vehicle_comments", "vin_valid": "vehicle_vin_valid",
             "vin_problem": "vehicle_vin_problem", "vin_manufacturer": "vehicle_manufacturer",
             "vin_model_year": "vehicle_model_year"}
_TEXT_FIELDS = frozenset(f.name for f in fields(Vehicle) if f.default == "")


def _fold(text: str) -> str:
    return re.sub(r"[^a-zäöüß]", "", (text or "").lower())


def interest_code(text: str | None) -> str | None:
    return _INTEREST_WORDS.get(_fold(text or "")) or (text if text in INTERESTS else None)


def status_code(text: str | None) -> str | None:
    return _STATUS_WORDS.get(_fold(text or ""))


def parse_year(text: str | None) -> int | None:
    """A four-digit year in "2021", "03/2021" or "EZ 2021"; None when there is none."""
    found = re.search(r"\b(19[5-9]\d|20\d\d)\b", text or "")
    return int(found.group(1)) if found else None


def parse_price(text: str | None) -> Decimal | None:
    """25990, "25.990 €", "25.990,00 EUR", "25,990.00": German and English notations."""
    digits = re.sub(r"[^\d.,]", "", text or "")
    if not re.search(r"\d", digits):
        return None
    if "," in digits and "." in digits:
        decimal_mark = "," if digits.rfind(",") > digits.rfind(".") else "."
    elif "," in digits:
        decimal_mark = "," if re.search(r",\d{1,2}$", digits) else None
    else:
        decimal_mark = None if re.search(r"\.\d{3}$", digits) else "."
    thousands = {",": ".", ".": ",", None: ",."}[decimal_mark]
    plain = digits.translate({ord(ch): None for ch in thousands})
    if decimal_mark == ",":
        plain = plain.replace(",", ".")
    try:
        value = Decimal(plain).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return value if Decimal(0) <= value <= PRICE_LIMIT else None


def cleaned(vehicle: Vehicle, today: date) -> Vehicle:
    """Texts trimmed to their limits, an impossible year dropped, the VIN checked and decoded."""
    texts = {name: (getattr(vehicle, name) or "").strip()[:TEXT_LIMIT]
             for name in ("make", "model", "stock_number", "price_currency", "trim", "price_type",
                          "odometer_units", "condition", "colors", "finance")}
    year = vehicle.year if vehicle.year and 1900 <= vehicle.year <= today.year + 2 else None
    clean = replace(vehicle, **texts, year=year, comments=(vehicle.comments or "").strip()[:COMMENTS_LIMIT],
                    interest=vehicle.interest if vehicle.interest in INTERESTS else None,
                    status=vehicle.status if vehicle.status in STATUSES else None)
    if not (vehicle.vin or "").strip():
        return replace(clean, vin="", vin_valid=None, vin_problem="", vin_manufacturer="", vin_model_year=None)
    check = vins.check_vin(vehicle.vin, today)
    # The file's own year is shown; a VIN that says otherwise is flagged, never believed over it.
    conflict = bool(year and check.model_year and check.model_year != year)
    return replace(clean, vin=check.vin[:TEXT_LIMIT], vin_valid=check.valid, vin_problem=check.problem,
                   vin_manufacturer=check.manufacturer, vin_model_year=check.model_year, year_conflict=conflict)


def columns(vehicle: Vehicle | None) -> dict:
    """The lead's vehicle_* column values (empty texts as NULL; all NULL without a vehicle)."""
    values = {f.name: getattr(vehicle, f.name) for f in fields(vehicle)} if vehicle is not None else {}
    return {column: (None if values.get(name) in ("", None) else values[name])
            for name, column in COLUMN_OF.items()}


def get_vehicle(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_id: int) -> Vehicle | None:
    """The lead's vehicle of interest, for a user who may see the lead; None when it has none."""
    require_visible(cur, user, lead_id, now)
    row = cur.execute(f"SELECT {', '.join(COLUMN_OF.values())} FROM leads WHERE id = ?", [lead_id]).fetchall()[0]
    if all(value is None for value in row):
        return None
    return Vehicle(**{name: ("" if value is None and name in _TEXT_FIELDS else value)
                      for name, value in zip(COLUMN_OF, row)})


# lead_vehicles column -> Vehicle field, for the leads intake gave several vehicles.
_ROW_FIELDS = {"interest": "interest", "status": "status", "year": "year", "make": "make", "model": "model",
               "trim": "trim", "vin": "vin", "vin_valid": "vin_valid", "vin_problem": "vin_problem",
               "manufacturer": "vin_manufacturer", "vin_model_year": "vin_model_year",
               "year_conflict": "year_conflict", "stock": "stock_number", "price": "price",
               "price_type": "price_type", "currency": "price_currency", "odometer": "odometer",
               "odometer_units": "odometer_units", "condition": "condition", "colors": "colors",
               "finance": "finance", "comments": "comments"}


def get_vehicles(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_id: int) -> list[Vehicle]:
    """All vehicles of the lead, wanted ones and the customer's own (trade-in, sell), in the
    feed's order; a lead typed in has at most its one vehicle of interest."""
    require_visible(cur, user, lead_id, now)
    rows = cur.execute(f"SELECT {', '.join(_ROW_FIELDS)} FROM lead_vehicles WHERE lead_id = ? ORDER BY position",
                       [lead_id]).fetchall()
    if not rows:
        single = get_vehicle(cur, user, now, lead_id)
        return [single] if single is not None else []
    return [Vehicle(**{name: ("" if value is None and name in _TEXT_FIELDS else value)
                       for name, value in zip(_ROW_FIELDS.values(), row)}) for row in rows]


def interest_label(code: str | None) -> str:
    return _(INTERESTS[code]) if code in INTERESTS else ""


def status_label(code: str | None) -> str:
    return _(STATUSES[code]) if code in STATUSES else ""
