"""The contacts (customers): people and companies with German names, e-mail addresses under
.example (a demo database can never mail a real person), addresses near the dealership's
locations, E.164 phones, and sort_name exactly as contacts.sort_name makes it."""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadcore.contacts import service as contacts
from leadcore.demo.columns import SECOND, str_ints, take, ts, weights
from leadcore.demo.world import LOCATIONS, NamePools, ascii_slug

_OTHER_AREAS = ("40", "89", "69", "221", "211", "711", "351", "511", "911", "201", "421", "381")
_MOBILE_PREFIXES = ("151", "152", "155", "157", "159", "160", "162", "163", "170", "171", "172",
                    "173", "174", "175", "176", "177", "178", "179")
_MAIL_DOMAINS = ("gmx.example", "web.example", "t-online.example", "gmail.example",
                 "outlook.example", "posteo.example", "freenet.example", "icloud.example",
                 "yahoo.example", "mailbox.example")
_MAIL_DOMAIN_WEIGHTS = (22, 20, 14, 18, 7, 4, 4, 5, 4, 2)
_COMPANY_FORMS = ("{l} GmbH", "{l} & {l2} GmbH & Co. KG", "Autovermietung {l} GmbH",
                  "{l} Logistik GmbH", "Pflegedienst {l}", "{l} Bau GmbH", "Fuhrpark {l} AG",
                  "{l} Elektrotechnik GmbH", "Taxi {l}", "Gebäudereinigung {l} GmbH")


def contacts_table(first_arrival: np.ndarray, names: NamePools, first_id: int,
                   rng: np.random.Generator) -> pa.Table:
    """One contact per first_arrival (µs, when its first lead came), with ids from first_id."""
    n = len(first_arrival)
    created = first_arrival - rng.integers(0, 300, size=n) * SECOND
    male = rng.random(n) < 0.52
    company = rng.random(n) < 0.06
    person = ~company | (rng.random(n) < 0.6)

    first_pool = names.male + names.female
    first_i = np.where(male, rng.integers(0, len(names.male), size=n),
                       len(names.male) + rng.integers(0, len(names.female), size=n))
    last_i = rng.integers(0, len(names.last), size=n)
    blank = pa.scalar("", pa.string())
    person_a = pa.array(person)
    first = pc.if_else(person_a, take(first_pool, first_i), blank)
    last = pc.if_else(person_a, take(names.last, last_i), blank)
    salutation = pc.if_else(person_a, take(["Frau", "Herr"], male.astype(np.int64)), blank)

    companies, slugs = _companies(names, n, rng)
    company_i = rng.integers(0, len(companies), size=n)
    company_name = pc.if_else(pa.array(company), take(companies, company_i), blank)

    sort_name = _sort_names(first, last, company_name, person_a, first_pool, first_i, names.last,
                            last_i, companies, company_i, rng)

    # e-mail: person addresses at public mail providers, companies at their own domain
    first_ascii = [ascii_slug(x, "-") for x in first_pool]
    last_ascii = [ascii_slug(x, "-") for x in names.last]
    sep = take([".", "", "_", "."], rng.integers(0, 4, size=n))
    number = pc.if_else(pa.array(rng.random(n) < 0.3), str_ints(rng.integers(1, 99, size=n)), blank)
    personal = pc.binary_join_element_wise(
        take(first_ascii, first_i), sep, take(last_ascii, last_i), number, "@",
        take(_MAIL_DOMAINS, rng.choice(len(_MAIL_DOMAINS), size=n, p=weights(_MAIL_DOMAIN_WEIGHTS))), "")
    business = pc.binary_join_element_wise(
        take(["info", "verkauf", "fuhrpark", "kontakt"], rng.integers(0, 4, size=n)), "@",
        take(slugs, company_i), ".example", "")
    email = pc.if_else(pa.array(company), business, personal)
    has_email = rng.random(n) < 0.85

    # address: mostly around the dealership's locations
    places, local_count = _places(names, rng)
    nearby = rng.random(n) < 0.8
    place_i = np.where(nearby, rng.integers(0, local_count, size=n),
                       rng.integers(local_count, len(places), size=n))
    has_address = rng.random(n) < 0.93
    house = pc.binary_join_element_wise(
        str_ints(rng.integers(1, 180, size=n)),
        take(("", "", "", "", "", "", "", "", "a", "b"), rng.integers(0, 10, size=n)), "")
    street = pc.binary_join_element_wise(
        take(names.streets, rng.integers(0, len(names.streets), size=n)), house, " ")
    postal_code = take([p[0] for p in places], place_i)
    city = take([p[1] for p in places], place_i)

    phone, mobile = _phones([p[2] for p in places], place_i, rng)
    has_phone = rng.random(n) < np.where(company, 0.9, 0.4)
    has_mobile = rng.random(n) < np.where(company, 0.4, 0.75)
    has_mobile |= ~(has_phone | has_mobile | has_email)   # every contact can be reached somehow

    def keep(values: pa.Array, mask: np.ndarray) -> pa.Array:
        return pc.if_else(pa.array(mask), values, blank)

    return pa.table({
        "id": pa.array(first_id + np.arange(n), type=pa.int64()),
        "salutation": salutation,
        "first_name": first,
        "last_name": last,
        "company": company_name,
        "email": keep(email, has_email),
        "phone": keep(phone, has_phone),
        "mobile": keep(mobile, has_mobile),
        "street": keep(street, has_address),
        "postal_code": keep(postal_code, has_address),
        "city": keep(city, has_address),
        "country": pa.repeat(pa.scalar("DE"), n),
        "sort_name": sort_name,
        "deleted": pa.array(np.zeros(n, dtype=bool)),
        "created_at": ts(created),
        "updated_at": ts(created),
    })


def _companies(names: NamePools, n: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """A pool of company names (fewer than contacts: companies come back) and their mail slugs."""
    companies, slugs = [], []
    for _ in range(max(50, min(3000, n // 50))):
        l1, l2 = (names.last[int(i)] for i in rng.integers(0, len(names.last), size=2))
        name = _COMPANY_FORMS[int(rng.integers(len(_COMPANY_FORMS)))].format(l=l1, l2=l2)
        companies.append(name)
        slugs.append(ascii_slug(re.sub(r"\b(GmbH|AG|KG|Co)\b", "", name), "-").strip("-") or "firma")
    return companies, slugs


def _places(names: NamePools, rng: np.random.Generator) -> tuple[list[tuple[str, str, str]], int]:
    """(postal code, city, area code) pool: first the ones near the locations (how many is the
    second value), then Faker's places elsewhere in Germany."""
    places = []
    for location in LOCATIONS.values():
        for (lo, hi), city, areas in location:
            for _ in range(60 if lo != hi else 15):
                places.append((f"{int(rng.integers(lo, hi + 1)):05d}", city, areas[0]))
    local_count = len(places)
    for postcode, city in names.places:
        places.append((postcode, city, _OTHER_AREAS[int(rng.integers(len(_OTHER_AREAS)))]))
    return places, local_count


def _phones(area: list[str], place_i: np.ndarray, rng: np.random.Generator) -> tuple[pa.Array, pa.Array]:
    """E.164 numbers: a landline by the place's area code, a mobile by a German mobile prefix."""
    n = len(place_i)
    area_len = np.array([len(a) for a in area], dtype=np.int64)[place_i]
    digits = 10 - area_len                               # German numbers: 10 national digits
    subscriber = (2 + (rng.random(n) * 8)).astype(np.int64) * 10 ** (digits - 1) \
        + (rng.random(n) * 10 ** (digits - 1)).astype(np.int64)
    phone = pc.binary_join_element_wise("+49", take(area, place_i), str_ints(subscriber), "")
    mobile = pc.binary_join_element_wise(
        "+49", take(_MOBILE_PREFIXES, rng.integers(0, len(_MOBILE_PREFIXES), size=n)),
        str_ints(rng.integers(10_000_000, 100_000_000, size=n)), "")
    return phone, mobile


def _sort_names(first, last, company, person, first_pool, first_i, last_pool, last_i,
                companies, company_i, rng) -> pa.Array:
    """contacts.sort_name of every contact ("last name or company, first name", folded).

    Folded per pool entry with contacts.sort_key and joined; a sample is compared with
    contacts.sort_name itself, and should they differ every name goes through it instead.
    """
    fold = getattr(contacts, "sort_key", str.lower)
    blank = pa.scalar("", pa.string())
    key_name = pc.if_else(person, take([fold(x) for x in last_pool], last_i),
                          take([fold(x) for x in companies], company_i))
    key_first = pc.if_else(person, take([fold(x) for x in first_pool], first_i), blank)
    joined = pc.binary_join_element_wise(key_name, key_first, ", ")

    def reference(rows: np.ndarray | None) -> list[str]:
        pick = (lambda a: a.to_pylist()) if rows is None else (lambda a: a.take(pa.array(rows)).to_pylist())
        return [contacts.sort_name(contacts.ContactInput(first_name=f, last_name=la, company=c))
                for f, la, c in zip(pick(first), pick(last), pick(company))]

    sample = rng.choice(len(joined), size=min(len(joined), 300), replace=False)
    if joined.take(pa.array(sample)).to_pylist() == reference(sample):
        return joined
    return pa.array(reference(None), type=pa.string())
