"""generate(): the one transaction that fills an empty database with the demo dealership, step
by step with progress."""
from __future__ import annotations

import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np

from leadcore import db
from leadcore.admin import settings
from leadcore.admin.users import hash_password
from leadcore.contacts import service as contacts
from leadcore.demo.columns import us
from leadcore.demo.customers import contacts_table
from leadcore.demo.history import events_table, settle_past_notifications
from leadcore.demo.lead_rows import leads_table
from leadcore.demo.plan import plan_leads
from leadcore.demo.staff import DEMO_ACCOUNTS, DEMO_PASSWORD, insert_users
from leadcore.demo.store import bulk_insert, next_id
from leadcore.demo.world import NamePools
from leadcore.errors import Conflict
from leadcore.i18n import _
from leadcore.rules import duetime


@dataclass(frozen=True)
class DemoSummary:
    users: int
    contacts: int
    leads: int
    events: int
    seconds: float


def generate(con: duckdb.DuckDBPyConnection, now: datetime, leads: int, seed: int = 7,
             progress: Callable[[float, str], None] | None = None) -> DemoSummary:
    """Fill an empty, migrated database with demo users, contacts and `leads` leads.

    `now` (timezone-aware) is the moment the data is made for: leads arrive in the ~6 months
    before it and the open ones' traffic lights are mixed relative to it. The same seed gives
    the same data. `progress(fraction, message)` is called along the way (0.0 .. 1.0).
    Raises Conflict when the database has leads already (or one of the demo usernames).
    """
    started = _time.perf_counter()
    report = progress or (lambda fraction, message: None)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if leads < 0:
        raise ValueError("leads must not be negative")
    rng = np.random.default_rng(seed)
    now_us = us(now)

    report(0.0, _("Checking the database"))
    if con.execute("SELECT count(*) FROM leads").fetchall()[0][0]:
        raise Conflict(_("The database has leads already; demo data only goes into an empty "
                         "database. Use a new database file."))
    taken = {u.lower() for (u,) in con.execute("SELECT username FROM users").fetchall()}
    clash = sorted(taken & {u for u, _r, _n in DEMO_ACCOUNTS})
    if clash:
        raise Conflict(_("The demo users {names} exist already; use a new database file.")
                       .format(names=", ".join(clash)))

    s = settings.due_settings(con)
    sources = con.execute("SELECT id, name, channel FROM sources ORDER BY position, id").fetchall()
    reasons = con.execute(
        "SELECT id, code, label FROM completion_reasons WHERE NOT hidden ORDER BY position, id"
    ).fetchall()
    if not sources or not reasons:
        raise Conflict(_("Demo data needs at least one source and one completion reason."))

    report(0.01, _("Hashing the demo password"))
    password_hash = hash_password(DEMO_PASSWORD)      # slow on purpose: once for everyone
    names = NamePools(seed, size=min(3000, max(300, leads // 100)))

    with db.transaction(con):
        report(0.03, _("Creating users"))
        users, sellers, supervisors = insert_users(con, now, leads, names, password_hash, taken, rng)
        n_events = 0
        n_contacts = 0
        if leads:
            report(0.05, _("Planning {n} leads").format(n=f"{leads:,}"))
            rules = [_source_rules(con, source_id) for source_id, _name, _channel in sources]
            plan = plan_leads(leads, now_us, s, rules, sources, reasons, sellers, supervisors, rng)
            report(0.20, _("Planning contacts"))
            contact_base = next_id(con, "contact_id_seq")
            lead_base = next_id(con, "lead_id_seq")
            contact_table = contacts_table(plan.contact_first_arrival, names, contact_base, rng)
            n_contacts = contact_table.num_rows
            bulk_insert(con, "contacts", contact_table, "contact_id_seq", report, 0.25, 0.40,
                        _("Saving contacts"))
            contacts.refresh_search_text(con)
            lead_table = leads_table(plan, lead_base, contact_base, rng)
            bulk_insert(con, "leads", lead_table, "lead_id_seq", report, 0.40, 0.75,
                        _("Saving leads"))
            event_table = events_table(plan, lead_table, reasons, next_id(con, "lead_event_id_seq"),
                                       lead_base)
            n_events = event_table.num_rows
            bulk_insert(con, "lead_events", event_table, "lead_event_id_seq", report, 0.75, 0.97,
                        _("Saving lead events"))
        report(0.98, _("Committing"))
    report(0.99, _("Recording past escalations"))
    settle_past_notifications(con, now)
    seconds = _time.perf_counter() - started
    report(1.0, _("Done: {n} leads in {s:.1f} s").format(n=f"{leads:,}", s=seconds))
    return DemoSummary(users=users, contacts=n_contacts, leads=leads, events=n_events,
                       seconds=seconds)


def _source_rules(con: duckdb.DuckDBPyConnection, source_id: int) -> duetime.DueSettings:
    """The due rules of one source (its escalation-time override over the global settings)."""
    try:
        return settings.due_settings(con, source_id)
    except TypeError:           # a settings module without per-source rules
        return settings.due_settings(con)
