"""Who a mail's sender is: a person (then they may be the customer) or a machine that is never
the customer and never gets mail from us: a portal's no-reply address, a forwarding service,
the dealership's own web-form mailer (its domain) or its lead mailbox (basic settings)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from leadcore.admin import settings

# Local parts that name a machine or a shared role rather than a person.
_MACHINE = re.compile(
    r"(no-?reply|do-?not-?reply|donotreply|mailer|daemon|notification|notify|bounce|postmaster|"
    r"autorespon|automail|robot|newsletter)", re.IGNORECASE)
_ROLE_BOXES = {"leads", "lead", "formular", "form", "forms", "website", "web", "webform", "kontakt",
               "contact", "kontaktformular", "system", "alerts", "anfrage", "anfragen", "inquiry",
               "inquiries", "dealerleads", "webleads"}


@dataclass(frozen=True)
class Dealership:
    """What intake must know of the dealership itself: its mailbox, mail domain and country."""
    mailbox: str = ""
    country: str = ""

    @property
    def domain(self) -> str:
        return self.mailbox.rpartition("@")[2].lower() if "@" in self.mailbox else ""


def dealership(cur: duckdb.DuckDBPyConnection) -> Dealership:
    return Dealership((settings.get(cur, "mailbox_address", "") or "").strip().lower(),
                      (settings.get(cur, "dealership_country", "DE") or "").strip().upper())


def is_machine(address: str, dealer: Dealership) -> bool:
    """Whether mail from (or to) this address is a machine's: never the customer, never mailed."""
    address = (address or "").strip().lower()
    if "@" not in address:
        return False
    local, _at, domain = address.rpartition("@")
    if address == dealer.mailbox or (dealer.domain and (domain == dealer.domain
                                                        or domain.endswith("." + dealer.domain))):
        return True
    return bool(_MACHINE.search(local)) or local.split("+")[0] in _ROLE_BOXES
