"""The "Label: value" lines of marketplace and website e-mails (mobile.de, AutoScout24, contact
forms), in German and English: "Vorname: Max", "E-Mail: max@example.de", "Nachricht: ...".

A message label takes the following lines too, up to the next known label: customers write
several lines. Unknown labels ("Inserat-Link:") are left alone.
"""
from __future__ import annotations

import re

# Folded label (lower-case letters only) -> field.
_LABELS = {
    "name": ("name", "vollername", "kunde", "kundenname", "interessent", "fullname", "yourname", "customername",
             "ihrname", "absender", "contactname", "kontakt"),
    "first_name": ("vorname", "firstname", "givenname"),
    "last_name": ("nachname", "familienname", "lastname", "surname"),
    "salutation": ("anrede", "salutation"),
    "company": ("firma", "unternehmen", "company", "firmenname"),
    "email": ("email", "emailadresse", "mail", "emailaddress", "ihreemailadresse", "ihreemail",
              "youremail"),
    "phone": ("telefon", "telefonnummer", "tel", "phone", "phonenumber", "telephone", "rufnummer",
              "festnetz", "ihretelefonnummer", "yourphone"),
    "mobile": ("mobil", "mobilnummer", "mobiltelefon", "handy", "handynummer", "mobile",
               "mobilephone", "cell", "cellphone", "telefonmobil", "mobiltelefonnummer"),
    "street": ("strasse", "street", "adresse", "address", "strasseundhausnummer",
               "strassehausnummer", "strassenr"),
    "postal_code": ("plz", "postleitzahl", "postalcode", "zip", "zipcode", "postcode"),
    "city": ("ort", "stadt", "city", "wohnort", "town"),
    "country": ("land", "country", "staat"),
    "postal_city": ("plzort", "plzundort", "postalcodecity", "zipcity"),
    "message": ("nachricht", "message", "ihrenachricht", "kommentar", "comment", "comments",
                "anmerkung", "anmerkungen", "mitteilung", "anfrage", "yourmessage", "text"),
    "vehicle": ("fahrzeug", "vehicle", "fahrzeugtitel", "angebot", "inseratstitel", "anzeige", "inventoryitem",
                "wunschfahrzeug", "vehicleofinterest"),
    "trade_in": ("meinfahrzeuginzahlungnahme", "inzahlungnahme", "inzahlungnahmefahrzeug", "tradein",
                 "tradeinvehicle", "meinfahrzeug", "eigenesfahrzeug"),
    "trim": ("trim", "ausstattung", "ausstattungslinie"),
    "condition": ("condition", "zustand"),
    "odometer": ("kilometerstand", "kmstand", "laufleistung", "mileage", "odometer", "miles"),
    "make": ("marke", "hersteller", "make", "brand"),
    "model": ("modell", "model"),
    "year": ("baujahr", "erstzulassung", "ez", "year", "modeljahr", "modelyear", "modelljahr"),
    "vin": ("fin", "vin", "fahrgestellnummer", "fahrzeugidentnummer", "fahrzeugidentifikationsnummer"),
    "stock_number": ("fahrzeugnummer", "internenummer", "inseratsnummer", "inseratnummer", "inseratnr",
                     "anzeigennummer", "angebotsnummer", "stock", "stocknumber", "stocknr", "adid",
                     "listingid", "bestandsnummer", "inserat", "inventorystock", "stockno"),
    "price": ("preis", "price", "kaufpreis", "angebotspreis", "listedprice", "askingprice", "listprice"),
    "interest": ("interesse", "interest", "anliegen", "anfrageart", "requesttype"),
}
FIELD_OF = {label: name for name, labels in _LABELS.items() for label in labels}
_LINE = re.compile(r"^[ \t>*•\-]*(?P<label>[^\W\d_][\w .\-/()#]{0,40}?)[ \t]*:[ \t]*(?P<value>.*)$")


def fold(label: str) -> str:
    """"E-Mail-Adresse" -> "emailadresse", "Straße" -> "strasse": letters only, lower case."""
    return re.sub(r"[^a-zäöüß]", "", label.lower()).replace("ß", "ss")


def _known(line: str) -> tuple[str, str] | None:
    match = _LINE.match(line)
    if not match:
        return None
    label = fold(match.group("label"))
    name = FIELD_OF.get(label)
    return (name, match.group("value").strip()) if name else None


def _label_only(lines: list[str], index: int) -> tuple[str, str, int] | None:
    """A line that is nothing but a known label ("Vorname", from a table cell or <dt>) and the
    next non-empty line as its value, unless that is a label itself (a section heading):
    (field, value, index of the value line)."""
    line = lines[index].strip()
    name = FIELD_OF.get(fold(line.rstrip(":"))) if 0 < len(line) <= 42 else None
    if name is None:
        return None
    after = next((i for i in range(index + 1, len(lines)) if lines[i].strip()), None)
    if after is None:
        return None
    following = lines[after].strip()
    if _known(following) or FIELD_OF.get(fold(following.rstrip(":"))):
        return None
    return name, following, after


def _label_at(lines: list[str], index: int) -> tuple[str, str, int] | None:
    known = _known(lines[index])
    if known and known[1]:
        return (*known, index)
    # "Vorname:" alone in its table cell: the value is the next line.
    return _label_only(lines, index) or ((*known, index) if known else None)


def read_labels(text: str) -> dict[str, str]:
    """Known fields of the text's "Label: value" lines (or a label line and its value line);
    the first occurrence of each wins."""
    found: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        known = _label_at(lines, index)
        if known is None:
            index += 1
            continue
        name, value, index = known
        index += 1
        if name == "message":
            more = []
            while index < len(lines) and _label_at(lines, index) is None:
                more.append(lines[index].rstrip())
                index += 1
            value = "\n".join([value, *more]).strip()
        if value and name not in found:
            found[name] = value
    if "postal_city" in found:
        match = re.match(r"\s*(\d{4,5})\s+(.+)", found.pop("postal_city"))
        if match:
            found.setdefault("postal_code", match.group(1))
            found.setdefault("city", match.group(2).strip())
    return found
