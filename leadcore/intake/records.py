"""The rows an intake batch writes, each table with one Arrow insert: contacts and their phones,
leads with all their vehicles and where they came from, events (created, assigned, what the
desk must check), and one intake_log row per message with what was kept and flagged.

Duck-typed on leadcore.intake.store's Message / _NewLead / _NewContact (store imports this).
"""
from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from leadcore import db
from leadcore.contacts import service as contacts
from leadcore.i18n import _
from leadcore.leads import vehicles


def _ids(c: duckdb.DuckDBPyConnection, sequence: str, n: int) -> list[int]:
    if not n:
        return []
    return sorted(r[0] for r in c.execute(f"SELECT nextval('{sequence}') FROM generate_series(1, ?)", [n]).fetchall())


def insert(c: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    db.insert_rows(c, table, pa.Table.from_pylist(rows))


def shallow(data) -> dict:
    """A flat dataclass as a dict (dataclasses.asdict deep-copies: a tenth of intake's time)."""
    return {f.name: getattr(data, f.name) for f in fields(data)}


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _id(thing) -> int | None:
    return thing if isinstance(thing, int) or thing is None else (thing.id or None)


def write(c: duckdb.DuckDBPyConnection, now: datetime, batch: list, new_contacts: list, new_leads: list) -> None:
    used = {lead.contact for lead in new_leads}
    new_contacts = [nc for nc in new_contacts if nc in used]   # leads dropped in _prepare_leads
    for contact, contact_id in zip(new_contacts, _ids(c, "contact_id_seq", len(new_contacts))):
        contact.id = contact_id
    insert(c, "contacts", [
        # Filed as the contact form files them (sort name here, search text right below).
        {"id": nc.id, **shallow(nc.data), "sort_name": contacts.sort_name(nc.data),
         "region": nc.incoming.region[:contacts.FIELD_LIMIT] or None,
         "possible_duplicate_of": _id(nc.possible_duplicate_of),
         "created_at": _utc(now), "updated_at": _utc(now)} for nc in new_contacts])
    contacts.refresh_search_text(c, [nc.id for nc in new_contacts])
    insert(c, "contact_phones", [
        {"contact_id": nc.id, "position": i, "number": number, "raw": raw[:200],
         "kind": (phone.kind or None), "time": (phone.time or None), "problem": problem or None}
        for nc in new_contacts
        for i, (phone, (raw, number, problem)) in enumerate(zip(nc.incoming.phones, nc.incoming.phone_problems))])
    for lead, lead_id in zip(new_leads, _ids(c, "lead_id_seq", len(new_leads))):
        lead.id = lead_id
    insert(c, "leads", [
        {"id": lead.id, "contact_id": lead.contact_id, "source_id": lead.message.source_id,
         "lead_type": lead.row["lead_type"], "subject": lead.row["subject"], "note": lead.row["note"],
         # Nobody typed an intake lead in: it counts as created by its first editor.
         "editor_id": lead.editor_id, "created_by": lead.editor_id, "status": "open",
         "arrived_at": _utc(lead.arrived_at), "due_at": _utc(lead.row["due_at"]),
         "reminder_at": _utc(lead.row["reminder_at"]), "stage2_at": _utc(lead.row["stage2_at"]),
         "last_activity_at": _utc(lead.arrived_at), "external_id": lead.message.incoming.external_id,
         **_vehicle_columns(lead.row["vehicle"])}
        for lead in new_leads])
    insert(c, "lead_vehicles", [vehicle_row(lead.id, i, v) for lead in new_leads
                                for i, v in enumerate(lead.row["vehicles"])])
    insert(c, "lead_origins", [origin_row(lead) for lead in new_leads
                               if not lead.message.incoming.origin.is_empty])
    events = []
    for lead in new_leads:
        events.append(_event(lead.id, now, "created", lead.row["subject"]))
        events.append(_event(lead.id, now, "assigned", lead.assigned_how))
        events += [_event(lead.id, now, "flagged", flag) for flag in flags_of(lead)]
    merged = [m for m in batch if m.outcome == "merged"]
    for m in merged:
        events.append(_event(m.lead_id, now, "intake", f"{m.reason} ({m.file_name})"))
    insert(c, "lead_events", events)
    stored_before = sorted({m.lead for m in merged if isinstance(m.lead, int)})
    if stored_before:
        c.execute("UPDATE leads SET last_activity_at = ? WHERE id IN (SELECT unnest(?::BIGINT[]))",
                  [now, stored_before])
    for lead in new_leads:
        lead.message.details = details(lead)
    insert(c, "intake_log", [
        {"received_at": _utc(now), "file_name": m.file_name[:300],
         "message_id": m.incoming.message_id if m.incoming else None,
         "external_id": m.incoming.external_id if m.incoming else None, "outcome": m.outcome,
         "reason": m.reason[:1000] or None, "lead_id": m.lead_id, "source_id": m.source_id,
         "flagged_unknown_sender": m.unknown_sender, "content_hash": m.content_hash or None,
         "part": m.part or None, "details": json.dumps(m.details, ensure_ascii=False) if m.details else None}
        for m in batch if m.outcome != "skipped"])


def flags_of(lead) -> list[str]:
    """What the desk must check on this lead: raw phones, a dropped e-mail, an unreadable
    date, a VIN contradicting the year, a possible duplicate contact, a new provider."""
    m, incoming = lead.message, lead.message.incoming
    flags = list(incoming.flags)
    for v in lead.row["vehicles"]:
        if v.year_conflict:
            flags.append(_("The VIN {vin} says model year {vin_year}; the file says {year} (shown).")
                         .format(vin=v.vin, vin_year=v.vin_model_year, year=v.year))
    duplicate = getattr(lead.contact, "possible_duplicate_of", None)
    if duplicate is not None:
        flags.append(_("Possible duplicate of contact #{id}: check before merging.").format(id=_id(duplicate)))
    if m.new_source:
        flags.append(_("New provider {provider}: its source was created inactive; confirm it in Settings, "
                       "Intake.").format(provider=m.provider))
    return flags


def vehicle_row(lead_id: int, position: int, v: vehicles.Vehicle) -> dict:
    return {"lead_id": lead_id, "position": position, "interest": v.interest, "status": v.status,
            "year": v.year, "make": v.make or None, "model": v.model or None, "trim": v.trim or None,
            "vin": v.vin or None, "vin_valid": v.vin_valid, "vin_problem": v.vin_problem or None,
            "manufacturer": v.vin_manufacturer or None, "vin_model_year": v.vin_model_year,
            "year_conflict": v.year_conflict, "stock": v.stock_number or None,
            # as text, cast by the insert: Arrow would infer another decimal width per batch
            "price": None if v.price is None else str(v.price), "price_type": v.price_type or None,
            "currency": v.price_currency or None, "odometer": v.odometer, "odometer_units": v.odometer_units or None,
            "condition": v.condition or None, "colors": v.colors or None, "finance": v.finance or None,
            "comments": v.comments or None}


def origin_row(lead) -> dict:
    o = lead.message.incoming.origin
    return {"lead_id": lead.id, "provider_name": o.provider_name or None, "provider_service": o.provider_service or None,
            "provider_url": o.provider_url or None, "provider_email": o.provider_email or None,
            "provider_phone": o.provider_phone or None, "vendor_name": o.vendor_name or None,
            "timeframe": o.timeframe or None, "request_date_text": o.request_date_text or None,
            "arrival_unreadable": bool(o.request_date_text)}


def details(lead) -> dict:
    """What the intake report shows of a file: what was kept and what was flagged."""
    incoming, m = lead.message.incoming, lead.message
    customer = contacts.Contact(**shallow(incoming.customer))
    phones = []
    for phone, (raw, number, problem) in zip(incoming.phones, incoming.phone_problems):
        kind = ", ".join(p for p in (phone.kind, phone.time) if p)
        # E.164 as stored (formatting would parse every number once more)
        text = number if number else _("{raw} (kept as sent)").format(raw=raw)
        phones.append(f"{text} ({kind})" if kind else text)
    return {"contact": " · ".join(p for p in (customer.display_name, customer.email) if p),
            "phones": phones,
            "vehicles": [describe(v) for v in lead.row["vehicles"]],
            "comments": (incoming.message or "")[:300],
            "provider": m.provider, "source_new": m.new_source,
            "flags": flags_of(lead)}


def describe(v: vehicles.Vehicle) -> str:
    """"Trade-in: 2015 Chevrolet Silverado 1500 LT, 98,500 mi, 17,500.00 USD (appraisal)"."""
    extra = []
    if v.odometer is not None:
        extra.append(f"{v.odometer:,} {v.odometer_units}".strip())
    if v.price is not None:
        extra.append(" ".join(p for p in (f"{v.price:,}", v.price_currency, f"({v.price_type})" if v.price_type else "") if p))
    if v.vin:
        extra.append(f"VIN {v.vin}")
    head = f"{vehicles.interest_label(v.interest)}: " if v.interest else ""
    return head + ", ".join(p for p in (v.description or v.stock_number, *extra) if p)


def _event(lead_id: int, now: datetime, kind: str, detail: str) -> dict:
    return {"lead_id": lead_id, "happened_at": _utc(now), "user_id": None, "kind": kind, "detail": detail}


def _vehicle_columns(vehicle: vehicles.Vehicle | None) -> dict:
    values = vehicles.columns(vehicle)
    # The lead's own columns carry the wanted vehicle; the model includes its trim.
    if vehicle is not None and vehicle.trim:
        values["vehicle_model"] = " ".join(p for p in (vehicle.model, vehicle.trim) if p)
    price = values["vehicle_price"]
    return {**values, "vehicle_price": None if price is None else str(price)}
