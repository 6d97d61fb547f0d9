"""The intake benchmark (not a test): 10,000 generated lead messages into a database of
1,000,000 leads, end to end: parse, match, store, outbox rows. Goal: at least 1,000 messages/s
(issue 9). Parsing runs in a helper process beside the store, as `python -m leadcore intake`
does. Besides the wall-clock rate it reports the CPU time per message (this process's threads
and the parsing helper): on a shared, busy machine the wall clock measures the neighbours.

    from benchmarks import common, intake
    rows = intake.intake_rows(common.database_for(1_000_000))

The database is copied first, so the cached benchmark database stays as it was built. The
messages are a dealership's mix: ADF files, ADF attached to e-mails, marketplace mails with
"Label: value" lines, mails straight from customers; a third from existing customers, a few
resends, a few broken files. Sellers are assigned to the marketplace sources (round robin)
and a forwarding target is set, so every message also queues its outbox rows.
"""
from __future__ import annotations

import random
import resource
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from leadcore import db
from leadcore.admin import settings
from leadcore.auth import SYSTEM
from leadcore.intake import intake_many
from leadcore.intake.service import parse
from leadcore.mail import autoresponder

__all__ = ["GOAL_PER_SECOND", "MESSAGES", "intake_rows", "generated_messages"]

GOAL_PER_SECOND = 1_000.0
MESSAGES = 10_000
FIRST = ("Anna", "Lukas", "Mia", "Jonas", "Lea", "Felix", "Emma", "Paul", "Sophie", "Ben")
LAST = ("Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Schulz", "Koch", "Richter", "Wolf")
CARS = (("Volkswagen", "Golf"), ("BMW", "320d Touring"), ("Audi", "A4 Avant"), ("Skoda", "Octavia"),
        ("Mercedes-Benz", "C 200"), ("Opel", "Astra"), ("Ford", "Focus"), ("Seat", "Leon"))
Row = tuple[str, float, str, str, bool | None]     # operation, value, unit, goal, goal met


def _adf(n: int, rng: random.Random, email: str, phone: str, provider: str) -> str:
    make, model = rng.choice(CARS)
    return (f'<?xml version="1.0"?><adf><prospect><id source="{provider}">B-{n}</id>'
            f'<requestdate>2026-11-27T0{rng.randint(7, 9)}:{rng.randint(10, 59)}:00+01:00</requestdate>'
            f'<vehicle interest="buy" status="{rng.choice(("new", "used"))}"><year>{rng.randint(2015, 2026)}</year>'
            f'<make>{make}</make><model>{model}</model><vin>WVWZZZCDZMW{n % 1_000_000:06d}</vin>'
            f'<price currency="EUR">{rng.randint(90, 600) * 100}</price></vehicle><customer><contact>'
            f'<name part="first">{rng.choice(FIRST)}</name><name part="last">{rng.choice(LAST)}</name>'
            f'<email>{email}</email><phone type="cellphone">{phone}</phone></contact>'
            f'<comments>Ist das Fahrzeug noch da? Anfrage {n}</comments></customer>'
            f'<provider><name>{provider}</name></provider></prospect></adf>')


def _marketplace(n: int, rng: random.Random, email: str, phone: str) -> str:
    make, model = rng.choice(CARS)
    return (f"From: mobile.de <noreply@mobile.de>\nTo: leads@autohaus.example\n"
            f"Subject: Anfrage zu Ihrem Fahrzeug: {make} {model} ({n})\n"
            f"Date: Fri, 27 Nov 2026 08:{n % 60:02d}:00 +0100\nMessage-ID: <bench-{n}@mobile.de>\n"
            f"Content-Type: text/plain; charset=UTF-8\n\nFahrzeug: {make} {model}\nPreis: 24.990 €\n"
            f"Vorname: {rng.choice(FIRST)}\nNachname: {rng.choice(LAST)}\nE-Mail: {email}\n"
            f"Telefon: {phone}\nNachricht: Ist eine Probefahrt möglich?\nDanke!\n")


def _direct(n: int, rng: random.Random, email: str) -> str:
    return (f"From: {rng.choice(FIRST)} {rng.choice(LAST)} <{email}>\nTo: leads@autohaus.example\n"
            f"Subject: Frage zu einem Angebot {n}\nDate: Fri, 27 Nov 2026 09:{n % 60:02d}:00 +0100\n"
            f"Message-ID: <direct-{n}@example.de>\nMIME-Version: 1.0\n"
            f'Content-Type: multipart/alternative; boundary="b{n}"\n\n--b{n}\nContent-Type: text/plain; charset=UTF-8\n\n'
            f"Guten Tag, haben Sie noch Kombis da?\n--b{n}\nContent-Type: text/html; charset=UTF-8\n\n"
            f"<p>Guten Tag, haben Sie noch <b>Kombis</b> da?</p>\n--b{n}--\n")


def _attached(n: int, rng: random.Random, email: str, phone: str) -> str:
    return (f"From: Website <website@autohaus.example>\nTo: leads@autohaus.example\nSubject: Webanfrage {n}\n"
            f"Message-ID: <web-{n}@autohaus.example>\nMIME-Version: 1.0\n"
            f'Content-Type: multipart/mixed; boundary="m{n}"\n\n--m{n}\nContent-Type: text/plain\n\nSiehe Anhang.\n'
            f'--m{n}\nContent-Type: application/xml; name="lead.xml"\nContent-Disposition: attachment; filename="lead.xml"\n\n'
            f"{_adf(n, rng, email, phone, 'Website form')}\n--m{n}--\n")


def generated_messages(known: list[tuple[str, str]], n: int = MESSAGES, seed: int = 7) -> list[tuple[str, bytes]]:
    """`n` lead files; `known` are (e-mail, phone) of existing contacts, a third of the customers."""
    rng = random.Random(seed)
    files: list[tuple[str, bytes]] = []
    for i in range(n):
        if known and rng.random() < 1 / 3:
            email, phone = rng.choice(known)
        else:
            email, phone = f"bench.kunde{i}@example.de", f"0171 {1_000_000 + i:07d}"
        kind = rng.random()
        if kind < 0.02:
            files.append((f"{i}.xml", b"<rss><channel/></rss>"))                    # a broken file
        elif kind < 0.05 and files:
            files.append((f"{i}-again{files[-1][0][-4:]}", files[-1][1]))          # a resend
        elif kind < 0.45:
            files.append((f"{i}.xml", _adf(i, rng, email, phone, rng.choice(("mobile.de", "AutoScout24"))).encode()))
        elif kind < 0.65:
            files.append((f"{i}.eml", _attached(i, rng, email, phone).encode()))
        elif kind < 0.90:
            files.append((f"{i}.eml", _marketplace(i, rng, email, phone).encode()))
        else:
            files.append((f"{i}.eml", _direct(i, rng, email).encode()))
    return files


def _timed(module, name: str, spent: list[float]) -> Callable:
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    return wrapper


def intake_rows(db_path: str | Path, n: int = MESSAGES, out: Callable[[str], None] = print,
                now=None) -> list[Row]:
    """Rows (operation, value, unit, goal, goal met) for the bench table; see the module doc."""
    from benchmarks.common import BENCH_NOW  # the clock the benchmark databases were built for

    now = now or BENCH_NOW
    with tempfile.TemporaryDirectory(prefix="leadcore-bench-intake-") as scratch:
        copy = Path(scratch) / "intake.duckdb"
        shutil.copyfile(db_path, copy)
        con = db.connect(copy)
        try:
            return _measure(con.cursor(), now, n, out)
        finally:
            con.close()


def _measure(cur, now, n: int, out: Callable[[str], None]) -> list[Row]:
    leads_before = cur.execute("SELECT count(*) FROM leads").fetchall()[0][0]
    sellers = [r[0] for r in cur.execute("SELECT id FROM users WHERE role = 'seller' AND active ORDER BY id").fetchall()]
    with db.transaction(cur):
        cur.execute("INSERT OR IGNORE INTO source_users SELECT s.id, u.id FROM sources s, users u"
                    " WHERE s.name IN ('mobile.de', 'AutoScout24') AND u.id IN (SELECT unnest(?::BIGINT[]))",
                    [sellers[: max(4, len(sellers) // 3)]])
        settings.put(cur, "forwarding_target", "crm@autohaus.example")
    known = [(e, p or "") for e, p in cur.execute(
        "SELECT email, coalesce(nullif(mobile, ''), phone) FROM contacts WHERE email <> '' USING SAMPLE 3000 ROWS"
    ).fetchall()]
    files = generated_messages(known, n)
    tz: ZoneInfo = settings.timezone(cur)
    started = time.perf_counter()
    for name, data in files:
        try:
            parse(name, data, tz)
        except Exception:  # noqa: BLE001 - rejections are part of the mix
            pass
    parse_seconds = time.perf_counter() - started
    outbox_before = cur.execute("SELECT count(*) FROM outbox").fetchall()[0][0]
    hooks: dict[str, list[float]] = {"queue_for_new_leads": [], "queue_forwards": []}
    saved = {name: getattr(autoresponder, name) for name in hooks}
    try:
        for name in saved:
            setattr(autoresponder, name, _timed(autoresponder, name, hooks[name]))
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        results = intake_many(cur, SYSTEM, now, files, parse_aside=True)   # as the command line does
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    finally:
        for name, real in saved.items():
            setattr(autoresponder, name, real)
    outcomes = Counter(r.outcome for r in results)
    outbox_rows = cur.execute("SELECT count(*) FROM outbox").fetchall()[0][0] - outbox_before
    rate = n / seconds
    in_hooks = {name: sum(spent) for name, spent in hooks.items()}
    without_mail = n / max(seconds - sum(in_hooks.values()), 1e-9)
    out(f"Intake of {n:,} messages into {leads_before:,} leads: {seconds:.1f} s, {rate:,.0f} messages/s "
        f"({outcomes['created']:,} created, {outcomes['merged']:,} merged, {outcomes['rejected']:,} rejected; "
        f"{outbox_rows:,} outbox rows). Autoresponder and forward took {sum(in_hooks.values()):.1f} s of it.")
    return [
        (f"Intake: parse {n:,} files (no database)", n / parse_seconds, "msgs/s", "", None),
        (f"Intake end to end: {n:,} messages into {leads_before:,} leads", rate, "msgs/s",
         f"≥ {GOAL_PER_SECOND:g}", rate >= GOAL_PER_SECOND),
        ("Intake: autoresponder.queue_for_new_leads, per created lead",
         in_hooks["queue_for_new_leads"] * 1000 / max(outcomes["created"], 1), "ms", "", None),
        ("Intake: autoresponder.queue_forwards (one insert per batch), per message taken in",
         in_hooks["queue_forwards"] * 1000 / max(outcomes["created"] + outcomes["merged"], 1), "ms", "", None),
        ("Intake end to end without those two hooks", without_mail, "msgs/s", "", None),
        ("Intake: CPU time per message (all threads and the parsing helper)", cpu * 1000 / n, "ms", "", None),
    ]


def _cpu_seconds() -> float:
    """CPU time of this process (DuckDB's threads included) and of its ended children (the
    parsing helper): what intake costs, whatever else the machine is doing."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
