"""Finding the contact of an incoming lead: by e-mail (any letter case), then by normalised phone
(any of the contact's numbers), then by last name + postal code; else a new contact.

A match is *certain* only when e-mail or phone agree and the names do not contradict each
other. Same e-mail with another name (a family sharing one mailbox), or only the same name and
postal code, is *uncertain*: the lead gets a new contact flagged "possible duplicate of" the
existing one, which is never overwritten. Two different customers never share a contact.

A batch is matched with set queries (one scan of the contacts per rule, not one per message:
a point lookup costs as much as the scan on DuckDB). Contacts created earlier in the same batch
are remembered, so a customer writing twice gets one contact. Among several matches the oldest
contact wins. Deleted contacts never match.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from leadcore.contacts.service import ContactInput
from leadcore.i18n import N_

BY_EMAIL, BY_PHONE, BY_NAME = N_("e-mail"), N_("phone"), N_("last name and postal code")


@dataclass(frozen=True)
class Match:
    contact: object | None       # a contact id, or a contact created earlier in the batch
    rule: str = ""
    certain: bool = False


def name_tokens(first: str, last: str) -> frozenset[str]:
    text = unicodedata.normalize("NFKD", f"{first} {last}".lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return frozenset(t for t in re.split(r"[^a-z]+", text) if len(t) > 1)


def same_person(a: frozenset[str], b: frozenset[str]) -> bool:
    """Names that do not contradict: one is missing, or one's words are all in the other's
    ("Kai" and "Kai Lindner"); "Peter Vogt" and "Petra Vogt" contradict."""
    return not a or not b or a <= b or b <= a


def _email_key(c: ContactInput) -> str:
    return c.email.strip().lower()


def phone_keys(c: ContactInput, extra: Iterable[str] = ()) -> list[str]:
    return list(dict.fromkeys(p for p in (c.phone, c.mobile, *extra) if p))


def _name_key(c: ContactInput) -> tuple[str, str] | None:
    last, postal = c.last_name.strip().lower(), c.postal_code.strip()
    return (last, postal) if last and postal else None


class ContactIndex:
    """Existing contacts that may match a batch of customers, plus the batch's new ones."""

    def __init__(self) -> None:
        self.by_email: dict[str, object] = {}
        self.by_phone: dict[str, object] = {}
        self.by_name: dict[tuple[str, str], object] = {}
        self.names: dict[object, frozenset[str]] = {}

    @classmethod
    def load(cls, cur: duckdb.DuckDBPyConnection, customers: Iterable[tuple[ContactInput, list[str]]]) -> ContactIndex:
        """`customers`: each customer with all of its valid phone numbers."""
        customers = list(customers)
        index = cls()
        emails = sorted({_email_key(c) for c, _p in customers if c.email})
        phones = sorted({p for c, extra in customers for p in phone_keys(c, extra)})
        names = sorted({k for c, _p in customers if (k := _name_key(c))})
        # One scan of the contacts for all three rules. Name and postal code are matched as
        # pairs (two IN lists would match every name with every postal code of the batch).
        rows = cur.execute(
            "SELECT id, lower(email), phone, mobile, lower(trim(last_name)), trim(postal_code), first_name, last_name"
            " FROM contacts WHERE NOT deleted AND (lower(email) IN (SELECT unnest($emails::VARCHAR[]))"
            " OR phone IN (SELECT unnest($phones::VARCHAR[])) OR mobile IN (SELECT unnest($phones::VARCHAR[]))"
            # the postal code first: the pair is built only for the few contacts it leaves
            " OR (trim(postal_code) IN (SELECT unnest($postals::VARCHAR[]))"
            "     AND lower(trim(last_name)) || '|' || trim(postal_code) IN (SELECT unnest($pairs::VARCHAR[]))))"
            " ORDER BY id",
            {"emails": emails, "phones": phones, "postals": sorted({postal for _last, postal in names}),
             "pairs": [f"{last}|{postal}" for last, postal in names]}
        ).fetchall() if (emails or phones or names) else []
        if phones:
            # Numbers kept beside the two main ones (a third phone, a fax) find their contact too.
            rows_extra = cur.execute(
                "SELECT p.contact_id, p.number FROM contact_phones p JOIN contacts c ON c.id = p.contact_id"
                " WHERE NOT c.deleted AND p.number IN (SELECT unnest(?::VARCHAR[])) ORDER BY p.contact_id",
                [phones]).fetchall()
        else:
            rows_extra = []
        for contact_id, email, phone, mobile, last, postal, first_name, last_name in rows:
            index.names.setdefault(contact_id, name_tokens(first_name or "", last_name or ""))
            if email in emails:
                index.by_email.setdefault(email, contact_id)
            for number in (phone, mobile):
                if number:
                    index.by_phone.setdefault(number, contact_id)
            if (last, postal) in names:
                index.by_name.setdefault((last, postal), contact_id)
        for contact_id, number in rows_extra:
            index.by_phone.setdefault(number, contact_id)
        return index

    @property
    def known(self) -> list[int]:
        return sorted({c for c in (*self.by_email.values(), *self.by_phone.values(), *self.by_name.values())
                       if isinstance(c, int)})

    def match(self, customer: ContactInput, phones: list[str], named: bool) -> Match:
        """The contact, how it was found, and whether it is certainly the same person."""
        tokens = name_tokens(customer.first_name, customer.last_name) if named else frozenset()
        found = []
        if customer.email and _email_key(customer) in self.by_email:
            found.append((self.by_email[_email_key(customer)], BY_EMAIL))
        found += [(self.by_phone[n], BY_PHONE) for n in phone_keys(customer, phones) if n in self.by_phone]
        for contact, rule in found:
            if same_person(tokens, self.names.get(contact, frozenset())):
                return Match(contact, rule, True)
        if found:
            return Match(found[0][0], found[0][1], False)
        key = _name_key(customer)
        if key is not None and key in self.by_name:
            return Match(self.by_name[key], BY_NAME, False)
        return Match(None)

    def remember(self, customer: ContactInput, phones: list[str], contact: object, named: bool) -> None:
        """A contact created in this batch: later messages of the batch find it too."""
        if customer.email:
            self.by_email.setdefault(_email_key(customer), contact)
        for number in phone_keys(customer, phones):
            self.by_phone.setdefault(number, contact)
        key = _name_key(customer)
        if key is not None:
            self.by_name.setdefault(key, contact)
        self.names[contact] = name_tokens(customer.first_name, customer.last_name) if named else frozenset()
