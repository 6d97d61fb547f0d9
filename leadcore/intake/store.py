"""Storing a batch of parsed intake messages inside ONE transaction (the caller's).

First, files taken in before (same content hash) are skipped: no row, no event, no mail.
Per message, in order: its source (the provider decides), then the resend check: the same
Message-ID, or the same non-empty external id from the same provider AND the same customer
(e-mail or phone) -- nothing else makes a message a resend, so two customers never share a
lead; then the contact (a certain match, or a new contact, flagged as a possible duplicate when
the match is uncertain), the editor (distribution), and the new lead with its vehicles, origin
and events. A resend adds an "intake" event ("resent: ...") to the lead it repeats. Every
message, rejected ones too, gets its intake_log row.

The reads are set queries for the whole batch and the writes Arrow bulk inserts: per message
a DuckDB statement costs about as much as scanning a table, so this is what makes hundreds
of messages a second possible at a million leads. The rules are those of the single-lead
path: leads.check_text validates, duetime.due_times with the source's settings computes due,
reminder and stage 2; contacts are validated and filed (sort name, search text) like the
contact form's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from leadcore.admin import settings
from leadcore.contacts import service as contacts
from leadcore.contacts.service import ContactInput
from leadcore.errors import ValidationError
from leadcore.i18n import _
from leadcore.intake import records, senders
from leadcore.intake.incoming import IncomingLead
from leadcore.intake.matching import ContactIndex
from leadcore.intake.routing import Router
from leadcore.leads import distribution, vehicles
from leadcore.leads import service as leads
from leadcore.leads.distribution import Distributor
from leadcore.mail import autoresponder
from leadcore.rules import duetime


@dataclass
class Message:
    """One file on its way through the batch; `outcome` and the rest are filled in by the store."""
    file_name: str
    raw: bytes
    incoming: IncomingLead | None = None
    outcome: str = "rejected"
    reason: str = ""
    lead: int | _NewLead | None = None
    source_id: int | None = None
    unknown_sender: bool = False
    part: str = ""                  # the attachment, in a mail of several leads
    content_hash: str = ""          # sha256 of the whole file: a file is taken in once
    file_key: int = 0               # which file of the batch (parts of one file share it)
    provider: str = ""              # the provider that decided the source
    new_source: bool = False        # that source was created on first sight
    possible_duplicate_of: int | None = None
    details: dict = field(default_factory=dict)

    @property
    def lead_id(self) -> int | None:
        return self.lead.id if isinstance(self.lead, _NewLead) else self.lead


@dataclass(eq=False)   # identity: stands in for a contact id until the insert allocates it
class _NewContact:
    data: ContactInput
    incoming: IncomingLead
    possible_duplicate_of: int | _NewContact | None = None
    id: int = 0


@dataclass(eq=False)
class _NewLead:
    message: Message
    contact: int | _NewContact
    editor_id: int
    assigned_how: str
    arrived_at: datetime
    id: int = 0
    row: dict = field(default_factory=dict)

    @property
    def contact_id(self) -> int:
        return self.contact.id if isinstance(self.contact, _NewContact) else self.contact


def store_batch(c: duckdb.DuckDBPyConnection, now: datetime, batch: list[Message]) -> None:
    """Decide and store every message of `batch` (in place: outcome, reason, lead)."""
    _skip_known_files(c, batch)
    router = Router(c)
    live = []
    for m in batch:
        if m.incoming is None or m.outcome == SKIPPED:
            continue
        route = router.route(c, m.incoming)
        m.source_id, m.unknown_sender = route.source_id, route.unknown_sender
        m.provider, m.new_source = route.provider, route.new_source
        if route.source_id is None:
            m.reason = _("The sender is unknown and no active default source is set for intake "
                         "(Settings, Intake).")
        else:
            live.append(m)
    decisions = _Decisions(c, now, live)
    for m in live:
        decisions.decide(m)
    _prepare_leads(c, now, decisions.new_leads)
    for m in live:
        if m.outcome == "merged" and isinstance(m.lead, _NewLead) and m.lead not in decisions.new_leads:
            m.outcome, m.lead = "rejected", None
            m.reason = _("A resend of a message that was rejected: {why}").format(why=m.reason)
    records.write(c, now, batch, decisions.new_contacts, decisions.new_leads)
    decisions.distributor.save(c)
    _queue_mails(c, now, batch, decisions.new_leads)


SKIPPED = "skipped"


def _skip_known_files(c: duckdb.DuckDBPyConnection, batch: list[Message]) -> None:
    """A file taken in before (same content, in the intake log) or earlier in this batch is not
    taken in again: no log row, no event, no mail. So a crash between a batch's commit and
    moving its files costs nothing when the folder is read again."""
    hashes = sorted({m.content_hash for m in batch if m.content_hash})
    known = {r[0] for r in c.execute(
        "SELECT DISTINCT content_hash FROM intake_log WHERE content_hash IN (SELECT unnest(?::VARCHAR[]))",
        [hashes]).fetchall()} if hashes else set()
    first_file: dict[str, int] = {}
    for m in batch:
        if not m.content_hash:
            continue
        owner = first_file.setdefault(m.content_hash, m.file_key)
        if m.content_hash in known or owner != m.file_key:
            m.outcome, m.lead, m.reason = SKIPPED, None, _("This file was taken in before; nothing was done.")


class _Decisions:
    """What the batch knows while it decides message by message: stored leads and contacts that
    may match (read with one query per rule), and what earlier messages of the batch created."""

    def __init__(self, c: duckdb.DuckDBPyConnection, now: datetime, live: list[Message]):
        self.now = now
        self.distributor = Distributor(c, now)
        self.by_external, self.by_message_id = _stored_requests(c, live)
        self.index = ContactIndex.load(c, [(m.incoming.customer, _valid_phones(m.incoming)) for m in live])
        known = self.index.known
        self.previous = distribution.previous_editors(c, known)
        self.new_contacts: list[_NewContact] = []
        self.new_leads: list[_NewLead] = []

    def decide(self, m: Message) -> None:
        incoming = m.incoming
        phones = _valid_phones(incoming)
        # The same e-mail (Message-ID), or the same id from the same provider, is a resend only
        # for the same customer (e-mail or phone): providers put one id on every lead
        # ("leadtype/Email"), and two customers must never share a lead.
        for table, key, why in (
                (self.by_message_id, incoming.message_id, _("resent: the same e-mail (Message-ID) was taken in before")),
                (self.by_external, incoming.external_id,
                 _("resent: the same request ({id}) of the same customer was taken in before"))):
            for lead, email, numbers in table.get(key or "", []):
                if (incoming.customer.email and incoming.customer.email.lower() == email) or set(phones) & numbers:
                    _merge(m, lead, why.format(id=incoming.external_id))
                    return
        match = self.index.match(incoming.customer, phones, incoming.named)
        contact = match.contact if match.certain else None
        assignment = self.distributor.choose(m.source_id, self.previous.get(contact))
        if assignment is None:
            m.reason = _("No active user can receive the lead.")
            return
        if contact is None:
            contact = _NewContact(incoming.customer, incoming,
                                  possible_duplicate_of=match.contact if not match.certain else None)
            self.new_contacts.append(contact)
            self.index.remember(incoming.customer, phones, contact, incoming.named)
        lead = _NewLead(m, contact, assignment.user_id, assignment.how, min(incoming.arrived_at or self.now, self.now))
        self.new_leads.append(lead)
        m.outcome, m.lead = "created", lead
        if match.contact is not None and not match.certain:
            m.possible_duplicate_of = match.contact if isinstance(match.contact, int) else None
            m.reason = _("new contact, possible duplicate (same {rule}, other person?)").format(rule=_(match.rule))
        else:
            m.reason = _("contact found by {rule}").format(rule=_(match.rule)) if match.rule else _("new contact")
        # Later messages of the batch find this lead as the one they repeat.
        for table, key in ((self.by_message_id, incoming.message_id), (self.by_external, incoming.external_id)):
            if key:
                table.setdefault(key, []).append((lead, incoming.customer.email.lower(), set(phones)))
        self.previous[contact] = assignment.user_id


def _valid_phones(incoming: IncomingLead) -> list[str]:
    return [number for _raw, number, _problem in incoming.phone_problems if number] or \
        [p for p in (incoming.customer.phone, incoming.customer.mobile) if p]


def _queue_mails(c: duckdb.DuckDBPyConnection, now: datetime, batch: list[Message],
                 new_leads: list[_NewLead]) -> None:
    """The autoresponder to each new lead's customer (one call for the batch; never to a
    no-reply or the dealership's own address) and one copy of each file taken in to the
    forwarding target (one insert for the batch): outbox rows in this same transaction, so
    none is lost or doubled."""
    dealer = senders.dealership(c)
    autoresponder.queue_for_new_leads(c, [lead.id for lead in new_leads if lead.message.incoming.customer.email
                                          and not senders.is_machine(lead.message.incoming.customer.email, dealer)],
                                      now)
    forwards, seen = [], set()
    for m in batch:
        if m.outcome in ("created", "merged") and m.file_key not in seen:
            seen.add(m.file_key)
            forwards.append((m.file_name, m.raw, m.lead_id))
    autoresponder.queue_forwards(c, now, forwards)


def _merge(m: Message, lead: int | _NewLead, why: str) -> None:
    m.outcome, m.lead, m.reason = "merged", lead, why


def _stored_requests(c: duckdb.DuckDBPyConnection, live: list[Message]) -> tuple[dict, dict]:
    """Leads already holding a batch message's external id, and leads taken in from its
    Message-ID: key -> [(lead id, the customer's e-mail, their numbers)]."""
    external_ids = sorted({m.incoming.external_id for m in live if m.incoming.external_id})
    message_ids = sorted({m.incoming.message_id for m in live if m.incoming.message_id})
    customer = ("lower(coalesce(c.email, '')), c.phone, c.mobile FROM leads l JOIN contacts c ON c.id = l.contact_id")
    found = []
    if external_ids:
        found.append(c.execute(f"SELECT 'x', l.external_id, l.id, {customer}"
                               " WHERE l.external_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY l.id",
                               [external_ids]).fetchall())
    if message_ids:
        found.append(c.execute(f"SELECT DISTINCT 'm', g.message_id, l.id, {customer}"
                               " JOIN intake_log g ON g.lead_id = l.id"
                               " WHERE g.message_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY l.id",
                               [message_ids]).fetchall())
    by_external: dict[str, list] = {}
    by_message_id: dict[str, list] = {}
    for rows in found:
        for table, key, lead_id, email, phone, mobile in rows:
            (by_external if table == "x" else by_message_id).setdefault(key, []).append(
                (lead_id, email, {n for n in (phone, mobile) if n}))
    return by_external, by_message_id


def _lead_type(vehicle: vehicles.Vehicle | None, default: str) -> str:
    if vehicle is not None and vehicle.interest in vehicles.OWN_VEHICLE:
        return "trade_in"
    if vehicle is not None and vehicle.status in ("new", "used"):
        return f"{vehicle.status}_car"
    return default if default in leads.LEAD_TYPES else "other"


def _subject(incoming: IncomingLead, vehicle: vehicles.Vehicle | None) -> str:
    subject = " ".join((incoming.subject or "").split())
    if not subject:
        about = vehicle.description if vehicle is not None else ""
        who = contacts.Contact(**records.shallow(incoming.customer)).display_name
        subject = (_("Request: {vehicle}").format(vehicle=about) if about
                   else _("Request by e-mail from {name}").format(name=who))
    limit = leads.SUBJECT_LIMIT
    return subject if len(subject) <= limit else subject[:limit - 1].rstrip() + "…"


def _note(incoming: IncomingLead) -> str:
    note = "\n\n".join(p for p in (incoming.message.strip(), "\n".join(incoming.notes)) if p)
    limit = leads.NOTE_LIMIT
    return note if len(note) <= limit else note[:limit - 1].rstrip() + "…"


def _prepare_leads(c: duckdb.DuckDBPyConnection, now: datetime, new_leads: list[_NewLead]) -> None:
    """Subject, note, type, vehicles and due times of each new lead; a lead failing the lead
    form's checks is dropped and its message rejected."""
    today, rules = now.astimezone(settings.timezone(c)).date(), {}
    default_type = settings.get(c, "default_lead_type", "other")
    for lead in list(new_leads):
        m = lead.message
        found = [vehicles.cleaned(v, today) for v in m.incoming.vehicles]
        found = [v for v in found if not (v.is_empty and v.interest is None)]
        wanted = [v for v in found if v.interest not in vehicles.OWN_VEHICLE]
        vehicle = (wanted or found or [None])[0]
        subject, note = _subject(m.incoming, vehicle), _note(m.incoming)
        errors: list[ValidationError] = []
        leads.check_text(errors, subject, note)   # the lead form's own rules
        if errors:
            new_leads.remove(lead)
            m.outcome, m.lead, m.reason = "rejected", None, "; ".join(e.message for e in errors)
            continue
        if m.source_id not in rules:
            rules[m.source_id] = settings.due_settings(c, m.source_id)
        times = duetime.due_times(lead.arrived_at, None, rules[m.source_id])
        lead.row = {"lead_type": _lead_type(vehicle, default_type), "subject": subject, "note": note or None,
                    "due_at": times.due_at, "reminder_at": times.reminder_at,
                    "stage2_at": times.stage2_at, "vehicle": vehicle, "vehicles": found}
