"""Finding the contact of an incoming lead: by e-mail (any letter case), then by normalised phone
(phone or mobile, either way round), then by last name + postal code; else a new contact.

A batch of messages is matched with three set queries (one scan of the contacts per rule,
not one per message: a point lookup costs as much as the scan on DuckDB). Contacts created
earlier in the same batch are remembered, so a customer writing twice gets one contact.
Among several matches the oldest contact wins. Deleted contacts never match.
"""
from __future__ import annotations

from collections.abc import Iterable

import duckdb

from leadcore.contacts.service import ContactInput
from leadcore.i18n import N_

BY_EMAIL, BY_PHONE, BY_NAME = N_("e-mail"), N_("phone"), N_("last name and postal code")


def _email_key(c: ContactInput) -> str:
    return c.email.strip().lower()


def _phone_keys(c: ContactInput) -> list[str]:
    return [p for p in (c.phone, c.mobile) if p]


def _name_key(c: ContactInput) -> tuple[str, str] | None:
    last, postal = c.last_name.strip().lower(), c.postal_code.strip()
    return (last, postal) if last and postal else None


class ContactIndex:
    """Existing contacts that may match a batch of customers, plus the batch's new ones."""

    def __init__(self) -> None:
        self.by_email: dict[str, int] = {}
        self.by_phone: dict[str, int] = {}
        self.by_name: dict[tuple[str, str], int] = {}

    @classmethod
    def load(cls, cur: duckdb.DuckDBPyConnection, customers: Iterable[ContactInput]) -> ContactIndex:
        customers = list(customers)
        index = cls()
        emails = sorted({_email_key(c) for c in customers if c.email})
        if emails:
            index.by_email.update(cur.execute(
                "SELECT lower(email), min(id) FROM contacts WHERE NOT deleted"
                " AND lower(email) IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL", [emails]).fetchall())
        phones = sorted({p for c in customers for p in _phone_keys(c)})
        if phones:
            for number, contact_id in cur.execute(
                    "SELECT number, min(id) FROM (SELECT id, unnest([phone, mobile]) AS number FROM contacts"
                    " WHERE NOT deleted AND (phone IN (SELECT unnest($1::VARCHAR[]))"
                    " OR mobile IN (SELECT unnest($1::VARCHAR[])))) WHERE number IN (SELECT unnest($1::VARCHAR[]))"
                    " GROUP BY ALL", [phones]).fetchall():
                index.by_phone[number] = contact_id
        names = sorted({k for c in customers if (k := _name_key(c))})
        if names:
            for last, postal, contact_id in cur.execute(
                    "SELECT lower(trim(last_name)), trim(postal_code), min(id) FROM contacts WHERE NOT deleted"
                    " AND trim(postal_code) IN (SELECT unnest(?::VARCHAR[]))"
                    " AND lower(trim(last_name)) IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL",
                    [sorted({p for _l, p in names}), sorted({n for n, _p in names})]).fetchall():
                index.by_name[(last, postal)] = contact_id
        return index

    def match(self, customer: ContactInput) -> tuple[int | None, str]:
        """(contact id, the rule that found it) or (None, "")."""
        if customer.email and _email_key(customer) in self.by_email:
            return self.by_email[_email_key(customer)], BY_EMAIL
        for number in _phone_keys(customer):
            if number in self.by_phone:
                return self.by_phone[number], BY_PHONE
        key = _name_key(customer)
        if key is not None and key in self.by_name:
            return self.by_name[key], BY_NAME
        return None, ""

    def remember(self, customer: ContactInput, contact_id: int) -> None:
        """A contact created in this batch: later messages of the batch find it too."""
        if customer.email:
            self.by_email.setdefault(_email_key(customer), contact_id)
        for number in _phone_keys(customer):
            self.by_phone.setdefault(number, contact_id)
        key = _name_key(customer)
        if key is not None:
            self.by_name.setdefault(key, contact_id)
