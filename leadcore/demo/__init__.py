"""Realistic demo data for an empty database: users, German contacts, six months of leads.

    from leadcore import clock, db, demo
    summary = demo.generate(db.connect(), clock.now(), leads=100_000,
                            progress=lambda fraction, message: print(f"{fraction:4.0%} {message}"))

Everything is computed as whole columns (numpy for numbers and instants in microseconds,
pyarrow for strings) and bulk-inserted with `INSERT INTO t SELECT ... FROM <arrow table>` in
chunks, inside ONE transaction: a failed or interrupted run leaves the database as it was.
Faker is only asked for a few thousand names and streets; they are combined at random.
1,000,000 leads take about 6-12 s on two cores. Rows take explicit ids from their table's
sequence, so contacts and leads created later in the app continue the numbering.

Derived columns are exactly what the app computes (due, reminder and stage-2 times those of
duetime.due_times with the lead's source rules; sort_name that of contacts.sort_name). The
open leads (30 %) are built so that, relative to `now`, about 55 % are on time, 10 % due soon,
20 % overdue (escalation level 1) and 15 % escalated to the supervisor (level 2).

The same seed gives the same data: every module draws from the one generator in a fixed order,
so moving a draw changes the data.

generator: generate() step by step; world: locations and name pools; staff: users;
customers: contacts; plan, open_leads, worktime: the lead columns; subjects: lead texts;
lead_rows: the leads table; history: events and notifications; store: inserts and ids.
"""
from leadcore.demo.columns import DAY, HOUR, MINUTE, SECOND, UTC
from leadcore.demo.generator import DemoSummary, generate
from leadcore.demo.history import settle_past_notifications
from leadcore.demo.open_leads import OPEN_MIX, OPEN_SHARE
from leadcore.demo.plan import CONTACTS_PER_LEAD, HISTORY_DAYS
from leadcore.demo.staff import DEMO_ACCOUNTS, DEMO_PASSWORD, MAIL_DOMAIN
from leadcore.demo.store import CHUNK_ROWS

__all__ = ["CHUNK_ROWS", "CONTACTS_PER_LEAD", "DAY", "DEMO_ACCOUNTS", "DEMO_PASSWORD", "HISTORY_DAYS",
           "HOUR", "MAIL_DOMAIN", "MINUTE", "OPEN_MIX", "OPEN_SHARE", "SECOND", "UTC", "DemoSummary",
           "generate", "settle_past_notifications"]
