"""Storing a batch of parsed intake messages inside ONE transaction (the caller's).

Per message, in order: its source, then a resend check (same ADF id or same e-mail Message-ID
as a stored lead), the contact (matching), a second resend check (an open lead of the same
contact and source from the last 30 days), the editor (distribution), and the new lead with
its vehicle and events. A resend adds an "intake" event ("resent: ...") to the lead it repeats.
Every message, rejected ones too, gets its intake_log row.

The reads are set queries for the whole batch and the writes Arrow bulk inserts: per message
a DuckDB statement costs about as much as scanning a table, so this is what makes hundreds
of messages a second possible at a million leads. The rules are those of the single-lead
path: leads.check_text validates, duetime.due_times with the source's settings computes due,
reminder and stage 2; contacts are validated and filed (sort name, search text) like the
contact form's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import count

import duckdb
import pyarrow as pa

from leadcore.mail import autoresponder
from leadcore.contacts import service as contacts
from leadcore.leads import distribution
from leadcore.rules import duetime
from leadcore.leads import service as leads
from leadcore.admin import settings
from leadcore.leads import vehicles
from leadcore.contacts.service import ContactInput
from leadcore.leads.distribution import Distributor
from leadcore.errors import ValidationError
from leadcore.i18n import _
from leadcore.intake.incoming import IncomingLead
from leadcore.intake.matching import ContactIndex
from leadcore.intake.routing import Router

RESEND_WINDOW = timedelta(days=30)
UTC = timezone.utc
_staging = count()


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

    @property
    def lead_id(self) -> int | None:
        return self.lead.id if isinstance(self.lead, _NewLead) else self.lead


@dataclass(eq=False)   # identity: stands in for a contact id until the insert allocates it
class _NewContact:
    data: ContactInput
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
    router = Router(c)
    live = []
    for m in batch:
        if m.incoming is None:
            continue
        route = router.route(m.incoming)
        m.source_id, m.unknown_sender = route.source_id, route.unknown_sender
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
    _write(c, now, batch, decisions.new_contacts, decisions.new_leads)
    decisions.distributor.save(c)
    _queue_mails(c, now, batch, decisions.new_leads)


class _Decisions:
    """What the batch knows while it decides message by message: stored leads and contacts that
    may match (read with one query per rule), and what earlier messages of the batch created."""

    def __init__(self, c: duckdb.DuckDBPyConnection, now: datetime, live: list[Message]):
        self.now = now
        self.distributor = Distributor(c, now)
        self.by_external, self.by_message_id = _stored_requests(c, live)
        self.index = ContactIndex.load(c, [m.incoming.customer for m in live])
        known = sorted({*self.index.by_email.values(), *self.index.by_phone.values(),
                        *self.index.by_name.values()})
        self.open_leads = _open_leads(c, now, known)
        self.previous = distribution.previous_editors(c, known)
        self.new_contacts: list[_NewContact] = []
        self.new_leads: list[_NewLead] = []

    def decide(self, m: Message) -> None:
        incoming = m.incoming
        repeated = (self.by_external.get(incoming.external_id or "")
                    or self.by_message_id.get(incoming.message_id or ""))
        if repeated is not None:
            _merge(m, repeated, _("resent: the same request was taken in before"))
            return
        contact, rule = self.index.match(incoming.customer)
        if contact is not None and (contact, m.source_id) in self.open_leads:
            _merge(m, self.open_leads[(contact, m.source_id)],
                   _("resent: the contact has an open lead of this source from the last 30 days"))
            return
        assignment = self.distributor.choose(m.source_id, self.previous.get(contact))
        if assignment is None:
            m.reason = _("No active user can receive the lead.")
            return
        if contact is None:
            contact = _NewContact(incoming.customer)
            self.new_contacts.append(contact)
            self.index.remember(incoming.customer, contact)
        lead = _NewLead(m, contact, assignment.user_id, assignment.how, min(incoming.arrived_at or self.now, self.now))
        self.new_leads.append(lead)
        m.outcome, m.lead = "created", lead
        m.reason = _("contact found by {rule}").format(rule=_(rule)) if rule else _("new contact")
        # Later messages of the batch find this lead as the one they repeat.
        for key, table in ((incoming.external_id, self.by_external), (incoming.message_id, self.by_message_id)):
            if key:
                table[key] = lead
        self.open_leads[(contact, m.source_id)] = lead
        self.previous[contact] = assignment.user_id


def _queue_mails(c: duckdb.DuckDBPyConnection, now: datetime, batch: list[Message],
                 new_leads: list[_NewLead]) -> None:
    """The autoresponder to each new lead's customer (one call for the batch) and a copy of each
    message taken in to the forwarding target: outbox rows in this same transaction, so none is
    lost or doubled."""
    autoresponder.queue_for_new_leads(c, [lead.id for lead in new_leads], now)
    for m in batch:
        if m.outcome in ("created", "merged"):
            autoresponder.queue_forward(c, now, m.file_name, m.raw, m.lead_id)


def _merge(m: Message, lead: int | _NewLead, why: str) -> None:
    m.outcome, m.lead, m.reason = "merged", lead, why


def _stored_requests(c: duckdb.DuckDBPyConnection, live: list[Message]) -> tuple[dict, dict]:
    """Leads already holding a batch message's ADF id, or taken in from its Message-ID."""
    external_ids = sorted({m.incoming.external_id for m in live if m.incoming.external_id})
    message_ids = sorted({m.incoming.message_id for m in live if m.incoming.message_id})
    by_external = dict(c.execute(
        "SELECT external_id, min(id) FROM leads WHERE external_id IN (SELECT unnest(?::VARCHAR[]))"
        " GROUP BY ALL", [external_ids]).fetchall()) if external_ids else {}
    by_message_id = dict(c.execute(
        "SELECT message_id, min(lead_id) FROM intake_log WHERE lead_id IS NOT NULL"
        " AND message_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL", [message_ids]).fetchall()) if message_ids else {}
    return by_external, by_message_id


def _open_leads(c: duckdb.DuckDBPyConnection, now: datetime, contact_ids: list[int]) -> dict:
    """(contact id, source id) -> the newest open lead from the resend window."""
    if not contact_ids:
        return {}
    return {(contact_id, source_id): lead_id for contact_id, source_id, lead_id in c.execute(
        "SELECT contact_id, source_id, max(id) FROM leads WHERE status = 'open' AND arrived_at >= ?"
        " AND contact_id IN (SELECT unnest(?::BIGINT[])) GROUP BY ALL",
        [now - RESEND_WINDOW, contact_ids]).fetchall()}


def _lead_type(vehicle: vehicles.Vehicle | None, default: str) -> str:
    if vehicle is not None and vehicle.interest == "trade_in":
        return "trade_in"
    if vehicle is not None and vehicle.status in ("new", "used"):
        return f"{vehicle.status}_car"
    return default if default in leads.LEAD_TYPES else "other"


def _subject(incoming: IncomingLead, vehicle: vehicles.Vehicle | None) -> str:
    subject = " ".join((incoming.subject or "").split())
    if not subject:
        about = vehicle.description if vehicle is not None else ""
        who = contacts.Contact(**asdict(incoming.customer)).display_name
        subject = (_("Request: {vehicle}").format(vehicle=about) if about
                   else _("Request by e-mail from {name}").format(name=who))
    limit = leads.SUBJECT_LIMIT
    return subject if len(subject) <= limit else subject[:limit - 1].rstrip() + "…"


def _note(incoming: IncomingLead) -> str:
    note = "\n\n".join(p for p in (incoming.message.strip(), "\n".join(incoming.notes)) if p)
    limit = leads.NOTE_LIMIT
    return note if len(note) <= limit else note[:limit - 1].rstrip() + "…"


def _prepare_leads(c: duckdb.DuckDBPyConnection, now: datetime, new_leads: list[_NewLead]) -> None:
    """Subject, note, type, vehicle and due times of each new lead; a lead failing the lead
    form's checks is dropped and its message rejected."""
    today, rules = now.astimezone(settings.timezone(c)).date(), {}
    default_type = settings.get(c, "default_lead_type", "other")
    for lead in list(new_leads):
        m = lead.message
        vehicle = vehicles.cleaned(m.incoming.vehicle, today) if m.incoming.vehicle else None
        vehicle = None if vehicle is not None and vehicle.is_empty and vehicle.interest is None else vehicle
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
                    "stage2_at": times.stage2_at, "vehicle": vehicle}


def _ids(c: duckdb.DuckDBPyConnection, sequence: str, n: int) -> list[int]:
    if not n:
        return []
    return sorted(r[0] for r in c.execute(f"SELECT nextval('{sequence}') FROM range(?)", [n]).fetchall())


def _insert(c: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    name = f"intake_rows_{next(_staging)}"   # one name per call: cursors may run side by side
    c.register(name, pa.Table.from_pylist(rows))
    try:
        columns = ", ".join(rows[0])
        c.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {name}")
    finally:
        c.unregister(name)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _write(c: duckdb.DuckDBPyConnection, now: datetime, batch: list[Message],
           new_contacts: list[_NewContact], new_leads: list[_NewLead]) -> None:
    used = {lead.contact for lead in new_leads}
    new_contacts = [nc for nc in new_contacts if nc in used]   # leads dropped in _prepare_leads
    for contact, contact_id in zip(new_contacts, _ids(c, "contact_id_seq", len(new_contacts))):
        contact.id = contact_id
    _insert(c, "contacts", [
        # Filed as the contact form files them (sort name here, search text right below).
        {"id": nc.id, **asdict(nc.data), "sort_name": contacts.sort_name(nc.data),
         "created_at": _utc(now), "updated_at": _utc(now)} for nc in new_contacts])
    contacts.refresh_search_text(c, [nc.id for nc in new_contacts])
    for lead, lead_id in zip(new_leads, _ids(c, "lead_id_seq", len(new_leads))):
        lead.id = lead_id
    _insert(c, "leads", [
        {"id": lead.id, "contact_id": lead.contact_id, "source_id": lead.message.source_id,
         "lead_type": lead.row["lead_type"], "subject": lead.row["subject"], "note": lead.row["note"],
         # Nobody typed an intake lead in: it counts as created by its first editor.
         "editor_id": lead.editor_id, "created_by": lead.editor_id, "status": "open",
         "arrived_at": _utc(lead.arrived_at), "due_at": _utc(lead.row["due_at"]),
         "reminder_at": _utc(lead.row["reminder_at"]), "stage2_at": _utc(lead.row["stage2_at"]),
         "last_activity_at": _utc(lead.arrived_at), "external_id": lead.message.incoming.external_id,
         **_vehicle_columns(lead.row["vehicle"])}
        for lead in new_leads])
    events = []
    for lead in new_leads:
        events.append(_event(lead.id, now, "created", lead.row["subject"]))
        events.append(_event(lead.id, now, "assigned", lead.assigned_how))
    merged = [m for m in batch if m.outcome == "merged"]
    for m in merged:
        events.append(_event(m.lead_id, now, "intake", f"{m.reason} ({m.file_name})"))
    _insert(c, "lead_events", events)
    stored_before = sorted({m.lead for m in merged if isinstance(m.lead, int)})
    if stored_before:
        c.execute("UPDATE leads SET last_activity_at = ? WHERE id IN (SELECT unnest(?::BIGINT[]))",
                  [now, stored_before])
    _insert(c, "intake_log", [
        {"received_at": _utc(now), "file_name": m.file_name[:300],
         "message_id": m.incoming.message_id if m.incoming else None,
         "external_id": m.incoming.external_id if m.incoming else None, "outcome": m.outcome,
         "reason": m.reason[:1000] or None, "lead_id": m.lead_id, "source_id": m.source_id,
         "flagged_unknown_sender": m.unknown_sender} for m in batch])


def _event(lead_id: int, now: datetime, kind: str, detail: str) -> dict:
    return {"lead_id": lead_id, "happened_at": _utc(now), "user_id": None, "kind": kind, "detail": detail}


def _vehicle_columns(vehicle: vehicles.Vehicle | None) -> dict:
    values = vehicles.columns(vehicle)
    # The price as text, cast by the insert: Arrow would infer another decimal width per batch.
    price = values["vehicle_price"]
    return {**values, "vehicle_price": None if price is None else str(price)}
