"""Realistic demo data for an empty database: users, German contacts, six months of leads.

    from leadcore import clock, db, demo
    summary = demo.generate(db.connect(), clock.now(), leads=100_000,
                            progress=lambda fraction, message: print(f"{fraction:4.0%} {message}"))

Everything is computed as whole columns (numpy for numbers and instants in microseconds,
pyarrow for strings) and bulk-inserted with `INSERT INTO t SELECT ... FROM <arrow table>` in
chunks, inside ONE transaction: a failed or interrupted run leaves the database as it was.
Faker is only asked for a few thousand names and streets; they are combined at random.
1,000,000 leads take about 6-12 s on two cores.

Rows take explicit ids from their table's sequence (one nextval, then setval to the highest
id), so contacts and leads created later in the app continue the numbering.

Derived columns are exactly what the app computes: due, reminder and stage-2 times are those
of duetime.due_times(arrived_at, resubmission_at, settings.due_settings(cur, source_id))
(arrival-based ones by a vectorised twin of duetime.add_working_time, checked against duetime
on a sample each run, with the plain loop as fallback); sort_name is contacts._sort_name
(folded per name with contacts.sort_key, also checked on a sample). Phones are E.164; e-mail
addresses use the reserved .example domain, so a demo database can never mail a real person.

The open leads (30 %) are built so that, relative to `now`, about 55 % are on time, 10 % due
soon, 20 % overdue (escalation level 1) and 15 % escalated to the supervisor (level 2).
"""
from __future__ import annotations

import re
import time as _time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker

from leadcore import contacts, db, duetime, escalation, settings
from leadcore.errors import Conflict
from leadcore.i18n import _
from leadcore.leads import LEAD_TYPES
from leadcore.users import hash_password

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "DemoSummary", "generate"]

DEMO_PASSWORD = "demo1234"
# (username, role, full name): the accounts the README lists; all use DEMO_PASSWORD.
DEMO_ACCOUNTS: list[tuple[str, str, str]] = [
    ("seller", "seller", "Jonas Becker"),
    ("seller2", "seller", "Lena Hoffmann"),
    ("supervisor", "supervisor", "Markus Weber"),
    ("manager", "manager", "Claudia Schneider"),
    ("analyst", "analyst", "Tobias Richter"),
    ("admin", "admin", "Sabine Krüger"),
]
_DEMO_SELLERS_REPORT_TO = "supervisor"
# E-mail domains under the reserved .example TLD (RFC 2606): valid addresses that can never
# reach a real person, should someone connect SMTP to a demo database.
MAIL_DOMAIN = "autohaus.example"
CHUNK_ROWS = 200_000
HISTORY_DAYS = 182          # leads arrive over the last ~6 months
OPEN_SHARE = 0.30           # share of leads still open
CONTACTS_PER_LEAD = 0.6     # the rest are repeat customers
# on time, due soon, overdue (level 1), escalated (level 2) among the open leads
OPEN_MIX = (0.55, 0.10, 0.20, 0.15)

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = 1_000_000
SECOND, MINUTE, HOUR, DAY = _US, 60 * _US, 3600 * _US, 86_400 * _US
_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class DemoSummary:
    users: int
    contacts: int
    leads: int
    events: int
    seconds: float


# --- the dealership's world ----------------------------------------------------------------
# name -> (postal-code range, city, phone area codes) near each location
_LOCATIONS = {
    "Berlin-Mitte": [((10115, 14199), "Berlin", ("30",)),
                     ((16321, 16321), "Bernau bei Berlin", ("3338",)),
                     ((16515, 16515), "Oranienburg", ("3301",)),
                     ((15711, 15711), "Königs Wusterhausen", ("3375",))],
    "Potsdam": [((14467, 14482), "Potsdam", ("331",)),
                ((14513, 14513), "Teltow", ("3328",)),
                ((14532, 14532), "Kleinmachnow", ("33203",)),
                ((14612, 14612), "Falkensee", ("3322",)),
                ((14542, 14542), "Werder (Havel)", ("3327",))],
    "Leipzig": [((4103, 4357), "Leipzig", ("341",)),
                ((4416, 4416), "Markkleeberg", ("341",)),
                ((4425, 4425), "Taucha", ("34298",)),
                ((4435, 4435), "Schkeuditz", ("34204",))],
}
_OTHER_AREAS = ("40", "89", "69", "221", "211", "711", "351", "511", "911", "201", "421", "381")
_MOBILE_PREFIXES = ("151", "152", "155", "157", "159", "160", "162", "163", "170", "171", "172",
                    "173", "174", "175", "176", "177", "178", "179")
_MAIL_DOMAINS = ("gmx.example", "web.example", "t-online.example", "gmail.example",
                 "outlook.example", "posteo.example", "freenet.example", "icloud.example",
                 "yahoo.example", "mailbox.example")
_MAIL_DOMAIN_WEIGHTS = (22, 20, 14, 18, 7, 4, 4, 5, 4, 2)

_SOURCE_WEIGHTS = {"mobile.de": 30, "AutoScout24": 24, "Website form": 16, "Phone": 12,
                   "Walk-in": 10, "E-mail": 8}
_TYPE_CODES = tuple(LEAD_TYPES)   # new_car, used_car, service, trade_in, financing, other
# lead-type mix per source channel (order of _TYPE_CODES)
_TYPE_MIX = {
    "marketplace": (20, 65, 0, 5, 8, 2),
    "website": (35, 25, 15, 10, 10, 5),
    "phone": (20, 20, 35, 10, 5, 10),
    "walk-in": (35, 30, 5, 15, 10, 5),
    "e-mail": (25, 25, 20, 10, 10, 10),
}
_DEFAULT_TYPE_MIX = (30, 35, 12, 10, 8, 5)
_REASON_WEIGHTS = {"sold": 25, "bought_elsewhere": 20, "no_interest": 24, "not_reachable": 16,
                   "duplicate": 8, "spam": 7}
# hour-of-day (local) and weekday (Monday first) rhythm of incoming leads
_HOUR_WEIGHTS = (0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 3, 5, 6, 6, 5, 5, 5.5, 5.5, 5, 4.5,
                 3.5, 3.5, 3.5, 3, 1.8, 0.8)
_WEEKDAY_WEIGHTS = (1.15, 1.0, 1.0, 1.0, 0.95, 0.8, 0.45)

_NEW_MODELS = (
    "VW Golf 8 GTI", "VW Golf 8 Variant", "VW ID.3", "VW ID.4 Pro", "VW ID.7 Tourer", "VW T-Roc",
    "VW Tiguan", "VW Passat Variant", "Skoda Octavia", "Skoda Octavia Combi", "Skoda Enyaq",
    "Skoda Kodiaq", "Audi A3 Sportback", "Audi Q4 e-tron", "Audi A6 Avant", "BMW 320d Touring",
    "BMW X3 xDrive20d", "BMW iX1", "Mercedes-Benz GLC 300 e", "Mercedes-Benz A 200",
    "Opel Astra", "Opel Corsa Electric", "Seat Ibiza", "Cupra Born", "Cupra Formentor",
    "Ford Puma", "Toyota Corolla Touring Sports", "Hyundai Ioniq 5", "Kia EV6", "Dacia Duster",
)
_USED_MODELS = (
    "VW Golf 7", "VW Golf 8 GTI", "VW Polo", "VW up!", "VW Passat Variant", "VW Touran",
    "VW Tiguan", "BMW 118i", "BMW 320d Touring", "BMW 520d Touring", "Audi A4 Avant",
    "Audi A3 Sportback", "Mercedes-Benz C 220 d T-Modell", "Mercedes-Benz B 180", "Opel Astra",
    "Opel Insignia Sports Tourer", "Opel Corsa", "Ford Focus Turnier", "Ford Fiesta",
    "Skoda Fabia", "Skoda Octavia Combi", "Skoda Superb", "Seat Leon ST", "Toyota Yaris Hybrid",
    "Mazda CX-5", "Volvo XC60", "Renault Clio", "Peugeot 308", "Mini Cooper", "Hyundai Tucson",
)
_SUBJECTS = {
    "new_car": ("Probefahrt {m}", "Anfrage {m}", "Angebot {m} Neuwagen", "Konfiguration {m}",
                "Leasinganfrage {m}", "Lieferzeit {m}?", "Probefahrt {m} am Samstag"),
    "used_car": ("Anfrage {u}, EZ {y}", "Anfrage {u}, EZ {y}, {km} km",
                 "Ist der {u} (EZ {y}) noch verfügbar?", "Probefahrt {u}, EZ {y}",
                 "Preisvorschlag {u}, EZ {y}", "Besichtigung {u}"),
    "service": ("Inspektion Termin", "Inspektion {u}", "Reifenwechsel {u}", "HU/AU Termin {u}",
                "Ölwechsel {u}", "Bremsen prüfen {u}", "Klimaservice {u}", "Unfallschaden {u}"),
    "trade_in": ("Inzahlungnahme {u}", "Inzahlungnahme {u}, EZ {y}, {km} km",
                 "Bewertung {u}, EZ {y}", "Ankauf {u}"),
    "financing": ("Finanzierungsangebot {m}", "Finanzierung {m}, {n} Monate",
                  "Leasing {m}, {n} Monate, {kmy} km/Jahr", "Ballonfinanzierung {u}, EZ {y}"),
    "other": ("Rückruf erbeten", "Frage zu Zubehör", "Allgemeine Anfrage", "Terminanfrage",
              "Frage zur Garantie {u}", "Anhängerkupplung nachrüsten {u}"),
}
_LEAD_NOTES = (
    "Kunde bittet um Rückruf am Vormittag.", "Bitte Angebot per E-Mail schicken.",
    "Kunde hat eine Inzahlungnahme erwähnt.", "Finanzierung gewünscht, Anzahlung ca. 5.000 €.",
    "Nur erreichbar nach 17 Uhr.", "Probefahrt am Wochenende möglich?",
    "Hat bereits ein Angebot vom Wettbewerber.", "Wunschfarbe Schwarz oder Grau.",
    "Firmenwagen, Rechnung auf die Firma.", "Nachricht vom Portal: Ist das Fahrzeug unfallfrei?",
    "Nachricht vom Portal: Was ist Ihr letzter Preis?", "Ehepartner kommt zur Probefahrt mit.",
    "Bestandskunde aus der Werkstatt.", "Sind Winterreifen dabei?",
    "Lieferung bis Ende des Monats gewünscht.", "Kunde wünscht Kontakt per WhatsApp.",
)
_WORK_NOTES = (
    "Kunde telefonisch erreicht, Probefahrt vereinbart.",
    "Angebot per E-Mail verschickt, Rückmeldung abwarten.",
    "Nicht erreicht, Nachricht auf der Mailbox hinterlassen.",
    "Kunde überlegt noch, Wiedervorlage gesetzt.", "Bewertung der Inzahlungnahme angefordert.",
    "Finanzierungsanfrage an die Bank gestellt.", "Rückruf für nächste Woche vereinbart.",
    "Kunde wartet auf das Angebot seiner Hausbank.", "Probefahrt durchgeführt, Kunde meldet sich.",
    "Termin in der Werkstatt eingetragen.", "Zweites Angebot mit Nachlass geschickt.",
    "Kunde ist im Urlaub, meldet sich danach.",
)
_COMPANY_FORMS = ("{l} GmbH", "{l} & {l2} GmbH & Co. KG", "Autovermietung {l} GmbH",
                  "{l} Logistik GmbH", "Pflegedienst {l}", "{l} Bau GmbH", "Fuhrpark {l} AG",
                  "{l} Elektrotechnik GmbH", "Taxi {l}", "Gebäudereinigung {l} GmbH")

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _ascii(text: str, keep: str = "") -> str:
    """Lower-case ASCII slug of a name for e-mail addresses ("Jürgen" -> "juergen")."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_TRANSLIT))
    text = text.encode("ascii", "ignore").decode()
    return re.sub(f"[^a-z0-9{re.escape(keep)}]+", "", text)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _td_us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _weights(values) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def _ts(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, type=_TS, mask=null)


def _take(pool: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pa.array(pool, type=pa.string()).take(pa.array(index, type=pa.int64()))


def _str_ints(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values, type=pa.int64()), pa.string())


# --- working time, vectorised --------------------------------------------------------------
def _windows(s: duetime.DueSettings, first: date, last: date) -> tuple[np.ndarray, np.ndarray]:
    """UTC working windows (microseconds) of the local dates first..last, built like duetime's."""
    opens, closes = [], []
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        d = date.fromordinal(ordinal)
        hours = s.working_hours[d.weekday()]
        if hours is None or d in s.holidays:
            continue
        start = datetime.combine(d, hours[0], tzinfo=s.tz).astimezone(UTC)
        end = datetime.combine(d, hours[1], tzinfo=s.tz).astimezone(UTC)
        if start < end:
            opens.append(_us(start))
            closes.append(_us(end))
    return np.array(opens, dtype=np.int64), np.array(closes, dtype=np.int64)


def _add_working_time(start: np.ndarray, amount: int, opens: np.ndarray,
                      closes: np.ndarray) -> np.ndarray | None:
    """duetime.add_working_time over arrays; None when the windows do not reach far enough."""
    if len(opens) == 0:
        return None
    k0 = np.searchsorted(closes, start, side="right")      # first window still open after start
    if (k0 >= len(opens)).any():
        return None
    t = np.maximum(start, opens[k0])
    if amount == 0:
        return t
    length = closes - opens
    cum_end = np.cumsum(length)
    cum_start = cum_end - length
    target = cum_start[k0] + (t - opens[k0]) + amount
    k = np.searchsorted(cum_end, target, side="left")      # using up a window exactly ends at its close
    if (k >= len(opens)).any():
        return None
    return opens[k] + (target - cum_start[k])


def _arrival_due(arrived: np.ndarray, s: duetime.DueSettings, rng: np.random.Generator) -> np.ndarray:
    """due_at (µs) of leads without resubmission: arrival + stage 1 in working time."""
    if len(arrived) == 0:
        return arrived.copy()
    stage1 = _td_us(s.stage1)
    first = _dt(arrived.min()).astimezone(s.tz).date() - timedelta(days=1)
    last = _dt(arrived.max()).astimezone(s.tz).date() + timedelta(days=40 + 3 * (stage1 // DAY + 1))
    due = _add_working_time(arrived, stage1, *_windows(s, first, last))
    if due is not None:
        sample = rng.choice(len(arrived), size=min(len(arrived), 300), replace=False)
        if all(_us(duetime.due_times(_dt(arrived[i]), None, s).due_at) == due[i] for i in sample):
            return due
    # Exotic settings (or a divergence from duetime): the exact, slower loop.
    return np.array([_us(duetime.due_times(_dt(a), None, s).due_at) for a in arrived], dtype=np.int64)


# --- names ----------------------------------------------------------------------------------
class _Names:
    """Pools of German names, streets and places drawn once from Faker."""

    def __init__(self, seed: int, size: int):
        fake = Faker("de_DE")
        fake.seed_instance(seed)
        name_ok = re.compile(r"[A-ZÄÖÜ][a-zäöüß]+(-[A-ZÄÖÜ][a-zäöüß]+)?")
        self.male = [n for n in (fake.first_name_male() for _ in range(size)) if name_ok.fullmatch(n)]
        self.female = [n for n in (fake.first_name_female() for _ in range(size)) if name_ok.fullmatch(n)]
        self.last = [n for n in (fake.last_name() for _ in range(size * 2)) if name_ok.fullmatch(n)]
        self.streets = [fake.street_name() for _ in range(size)]
        self.places = [(fake.postcode(), fake.city()) for _ in range(max(200, size // 4))]


# --- the generator ---------------------------------------------------------------------------
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
    now_us = _us(now)

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
    names = _Names(seed, size=min(3000, max(300, leads // 100)))

    with db.transaction(con):
        report(0.03, _("Creating users"))
        users, sellers, supervisors = _insert_users(con, now, leads, names, password_hash, taken, rng)
        n_events = 0
        n_contacts = 0
        if leads:
            report(0.05, _("Planning {n} leads").format(n=f"{leads:,}"))
            rules = [_source_rules(con, source_id) for source_id, _name, _channel in sources]
            plan = _plan_leads(leads, now_us, s, rules, sources, reasons, sellers, supervisors, rng)
            report(0.20, _("Planning contacts"))
            plan["contact_base"] = _next_id(con, "contact_id_seq")
            plan["lead_base"] = _next_id(con, "lead_id_seq")
            contact_table = _contacts_table(plan, names, rng)
            n_contacts = contact_table.num_rows
            _bulk_insert(con, "contacts", contact_table, "contact_id_seq", report, 0.25, 0.40,
                         _("Saving contacts"))
            contacts.refresh_search_text(con)
            lead_table = _leads_table(plan, rng)
            _bulk_insert(con, "leads", lead_table, "lead_id_seq", report, 0.40, 0.75,
                         _("Saving leads"))
            plan["event_base"] = _next_id(con, "lead_event_id_seq")
            event_table = _events_table(plan, lead_table, reasons)
            n_events = event_table.num_rows
            _bulk_insert(con, "lead_events", event_table, "lead_event_id_seq", report, 0.75, 0.97,
                         _("Saving lead events"))
        report(0.98, _("Committing"))
    report(0.99, _("Recording past escalations"))
    settle_past_notifications(con, now)
    seconds = _time.perf_counter() - started
    report(1.0, _("Done: {n} leads in {s:.1f} s").format(n=f"{leads:,}", s=seconds))
    return DemoSummary(users=users, contacts=n_contacts, leads=leads, events=n_events,
                       seconds=seconds)


def settle_past_notifications(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """Give the demo the notification history a running desk would have.

    Without it the app's first sweep would "discover" every past escalation at once and queue
    a mail for each. Stages are dated when they passed, mails count as sent, and only what
    happened in the last day is still unread.
    """
    escalation.sweep(con, now)
    with db.transaction(con):
        con.execute("""
            UPDATE notifications AS n SET created_at = CASE n.stage
                WHEN 'reminder' THEN l.reminder_at WHEN 'stage1' THEN l.due_at ELSE l.stage2_at END
            FROM leads l WHERE l.id = n.lead_id""")
        con.execute("UPDATE notifications SET read_at = ? WHERE created_at < ?",
                    [now, now - timedelta(days=1)])
        con.execute("UPDATE outbox SET status = 'sent', sent_at = n.created_at, attempts = 1"
                    " FROM notifications n WHERE n.id = outbox.notification_id")


def _source_rules(con: duckdb.DuckDBPyConnection, source_id: int) -> duetime.DueSettings:
    """The due rules of one source (its escalation-time override over the global settings)."""
    try:
        return settings.due_settings(con, source_id)
    except TypeError:           # a settings module without per-source rules
        return settings.due_settings(con)


def _next_id(con: duckdb.DuckDBPyConnection, sequence: str) -> int:
    return con.execute(f"SELECT nextval('{sequence}')").fetchall()[0][0]


def _bulk_insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, sequence: str,
                 report: Callable[[float, str], None], lo: float, hi: float, message: str) -> None:
    """INSERT ... SELECT from an Arrow table in chunks of CHUNK_ROWS.

    The rows carry explicit ids, consecutive from one nextval of `sequence`; afterwards the
    sequence is set to the highest id (DuckDB 2.0 has setval), so the next single insert in
    the app continues after it.
    """
    columns = ", ".join(rows.column_names)
    total = rows.num_rows
    for offset in range(0, total, CHUNK_ROWS):
        con.register("demo_chunk", rows.slice(offset, CHUNK_ROWS))
        try:
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM demo_chunk")
        finally:
            con.unregister("demo_chunk")
        done = min(total, offset + CHUNK_ROWS)
        report(lo + (hi - lo) * done / total, f"{message} ({done:,} / {total:,})")
    if total:
        top = con.execute(f"SELECT max(id) FROM {table}").fetchall()[0][0]
        con.execute(f"SELECT setval('{sequence}', ?)", [top]).fetchall()


def _insert_users(con, now: datetime, leads: int, names: _Names, password_hash: str,
                  taken: set[str], rng: np.random.Generator):
    """Demo accounts plus sellers (about 12 at 10k leads, 60 at 1M) and their supervisors."""
    n_sellers = int(min(60, max(4, round(12 * (max(leads, 1) / 10_000) ** 0.35))))
    locations = list(_LOCATIONS)[: 2 if leads < 50_000 else 3]
    home = locations[0]
    rows = []   # username, full_name, role, location
    for username, role, full_name in DEMO_ACCOUNTS:
        rows.append((username, full_name, role, home))
    used = taken | {r[0] for r in rows}

    def person() -> tuple[str, str]:
        first = str(rng.choice(names.male if rng.random() < 0.6 else names.female))
        full = f"{first} {rng.choice(names.last)}"
        base = _ascii(full.split(" ")[0], "-") + "." + _ascii(full.split(" ", 1)[1], "-")
        username, n = base, 1
        while username in used:
            n += 1
            username = f"{base}{n}"
        used.add(username)
        return username, full

    demo_sellers = [u for u, r, _n in DEMO_ACCOUNTS if r == "seller"]
    seller_location = {u: home for u in demo_sellers}
    for i in range(n_sellers - len(demo_sellers)):
        username, full = person()
        seller_location[username] = locations[(i + 1) % len(locations)]
        rows.append((username, full, "seller", seller_location[username]))
    per_location = {loc: sum(1 for v in seller_location.values() if v == loc) for loc in locations}
    supervisors_at = {home: [_DEMO_SELLERS_REPORT_TO]}
    for loc in locations:
        wanted = 1 + per_location[loc] // 15
        while len(supervisors_at.setdefault(loc, [])) < wanted:
            username, full = person()
            supervisors_at[loc].append(username)
            rows.append((username, full, "supervisor", loc))

    base = _next_id(con, "user_id_seq")
    ids = {username: base + i for i, (username, *_rest) in enumerate(rows)}
    emails = [f"{u}@{MAIL_DOMAIN}" for u, *_r in rows]
    table = pa.table({
        "id": pa.array([ids[r[0]] for r in rows], type=pa.int64()),
        "username": [r[0] for r in rows],
        "full_name": [r[1] for r in rows],
        "email": emails,
        "role": [r[2] for r in rows],
        "password_hash": [password_hash] * len(rows),
        "location": [r[3] for r in rows],
        "active": [True] * len(rows),
        "created_at": pa.array([_us(now) - 200 * DAY] * len(rows), type=_TS),
    })
    _bulk_insert(con, "users", table, "user_id_seq", lambda f, m: None, 0, 0, "")

    links = []
    for username, loc in seller_location.items():
        bosses = supervisors_at[loc] if username not in demo_sellers else [_DEMO_SELLERS_REPORT_TO]
        links.append((ids[username], ids[bosses[len(links) % len(bosses)]]))
    manager = next(u for u, r, _n in DEMO_ACCOUNTS if r == "manager")
    for loc_supervisors in supervisors_at.values():
        links.extend((ids[u], ids[manager]) for u in loc_supervisors)
    link_table = pa.table({"user_id": pa.array([a for a, _b in links], type=pa.int64()),
                           "superior_id": pa.array([b for _a, b in links], type=pa.int64())})
    con.register("demo_links", link_table)
    try:
        con.execute("INSERT INTO user_superiors SELECT user_id, superior_id FROM demo_links")
    finally:
        con.unregister("demo_links")

    sellers = np.array([ids[u] for u in seller_location], dtype=np.int64)
    supervisors = np.array([ids[u] for loc in supervisors_at.values() for u in loc], dtype=np.int64)
    return len(rows), sellers, supervisors


# --- leads ----------------------------------------------------------------------------------
def _arrivals(n: int, now_us: int, tz, rng: np.random.Generator) -> np.ndarray:
    """Arrival instants (µs, sorted) over the last HISTORY_DAYS, denser recently, by weekday/hour."""
    today = _dt(now_us).astimezone(tz).date()
    days = [today - timedelta(days=k) for k in range(HISTORY_DAYS)]
    midnight = np.array([_us(datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC)) for d in days])
    w = np.exp(-np.arange(HISTORY_DAYS) / 120.0) * np.array([_WEEKDAY_WEIGHTS[d.weekday()] for d in days])
    day = rng.choice(HISTORY_DAYS, size=n, p=w / w.sum())
    hour = rng.choice(24, size=n, p=_weights(_HOUR_WEIGHTS))
    arrived = midnight[day] + hour * HOUR + rng.integers(0, 3600, size=n) * SECOND
    late = arrived > now_us - MINUTE          # today's lead "from the future": earlier today
    span = max(2 * MINUTE, now_us - int(midnight[0]))
    arrived[late] = now_us - rng.integers(MINUTE, span, size=int(late.sum()))
    arrived -= arrived % SECOND
    arrived.sort()
    return arrived


def _plan_leads(n: int, now_us: int, s: duetime.DueSettings, rules: list[duetime.DueSettings],
                sources, reasons, sellers: np.ndarray, supervisors: np.ndarray,
                rng: np.random.Generator) -> dict:
    """Every lead column as arrays (times in µs; -1 for none), leads sorted by arrival.

    s: the global rules (time zone, working hours, holidays); rules[i]: those of sources[i].
    """
    arrived = _arrivals(n, now_us, s.tz, rng)
    age = now_us - arrived

    # sources, lead types, editors
    source_w = [_SOURCE_WEIGHTS.get(name, 4) for _id, name, _ch in sources]
    source_i = rng.choice(len(sources), size=n, p=_weights(source_w))
    # each lead's escalation times (µs), from its source's rules
    reminder = np.array([_td_us(r.reminder) for r in rules], dtype=np.int64)[source_i]
    stage2 = np.array([_td_us(r.stage2) for r in rules], dtype=np.int64)[source_i]
    stage2r = np.array([_td_us(r.stage2_resubmission) for r in rules], dtype=np.int64)[source_i]

    def arrival_due(idx: np.ndarray) -> np.ndarray:
        result = np.empty(len(idx), dtype=np.int64)
        for i, r in enumerate(rules):
            of_source = source_i[idx] == i
            result[of_source] = _arrival_due(arrived[idx[of_source]], r, rng)
        return result
    lead_type = np.empty(n, dtype=np.int64)
    for i, (_id, _name, channel) in enumerate(sources):
        mask = source_i == i
        lead_type[mask] = rng.choice(len(_TYPE_CODES), size=int(mask.sum()),
                                     p=_weights(_TYPE_MIX.get(channel, _DEFAULT_TYPE_MIX)))
    seller_w = rng.gamma(4.0, 1.0, size=len(sellers))
    seller_w[:2] = seller_w.max()             # the demo sellers are busy ones
    editor = sellers[rng.choice(len(sellers), size=n, p=seller_w / seller_w.sum())]
    by_supervisor = rng.random(n) < 0.06
    editor[by_supervisor] = supervisors[rng.integers(0, len(supervisors), size=int(by_supervisor.sum()))]
    # contacts: 60 % of the leads bring a new contact, the others are repeat customers,
    # who mostly get the seller they had before
    n_contacts = max(1, int(round(CONTACTS_PER_LEAD * n)))
    is_new = np.zeros(n, dtype=bool)
    is_new[0] = True
    if n_contacts > 1:
        is_new[1 + rng.choice(n - 1, size=n_contacts - 1, replace=False)] = True
    seen = np.cumsum(is_new)
    contact = seen - 1
    repeat = ~is_new
    contact[repeat] = (rng.random(int(repeat.sum())) * (seen[repeat])).astype(np.int64)
    same_seller = repeat & (rng.random(n) < 0.7)
    editor[same_seller] = editor[np.flatnonzero(is_new)[contact[same_seller]]]
    created_by = editor.copy()
    handed_over = rng.random(n) < 0.05        # typed in by a supervisor, then assigned
    created_by[handed_over] = supervisors[rng.integers(0, len(supervisors), size=int(handed_over.sum()))]

    # people answer and close leads in working hours: later moments move into the next window
    hours = _windows(s, _dt(arrived[0]).astimezone(s.tz).date() - timedelta(days=1),
                     _dt(now_us).astimezone(s.tz).date() + timedelta(days=10))

    def snap(moments: np.ndarray) -> np.ndarray:
        return _into_working_hours(moments, *hours, rng)

    # open leads: a weighted sample favouring recent arrivals (Efraimidis-Spirakis keys)
    n_open = int(round(OPEN_SHARE * n))
    key = np.log(rng.random(n)) / np.exp(-(age / DAY) / 12.0)
    is_open = np.zeros(n, dtype=bool)
    if n_open:
        is_open[np.argpartition(key, n - n_open)[n - n_open:]] = True

    resub = np.full(n, -1, dtype=np.int64)
    response = np.full(n, -1, dtype=np.int64)     # first_response_at (and the note event)
    completed = np.full(n, -1, dtype=np.int64)

    # open, not worked yet: fresh arrivals, and a few neglected older ones
    fresh = age < 36 * HOUR
    unworked = is_open & np.where(fresh, rng.random(n) < 0.8, rng.random(n) < 0.03)
    due = np.zeros(n, dtype=np.int64)
    due[unworked] = arrival_due(np.flatnonzero(unworked))
    state = np.full(n, -1, dtype=np.int64)        # 0 on time, 1 due soon, 2 level 1, 3 level 2
    state[unworked] = _state(now_us, due[unworked], reminder[unworked],
                             due[unworked] + stage2[unworked])

    # open and worked: a note set a resubmission; choose it to reach the traffic-light mix
    worked = np.flatnonzero(is_open & ~unworked)
    targets = np.round(np.array(OPEN_MIX) * n_open).astype(np.int64)
    need = np.maximum(0, targets - np.bincount(state[unworked], minlength=4))
    if reminder.max(initial=0) <= 0:   # "due soon" cannot happen without a reminder
        need[0] += need[1]
        need[1] = 0
    alloc = _apportion(len(worked), need if need.sum() else targets)
    rng.shuffle(worked)
    lvl2_ok = arrived[worked] < now_us - stage2r[worked] - 5 * MINUTE
    order = np.concatenate([worked[lvl2_ok], worked[~lvl2_ok]])
    lvl2 = order[: min(alloc[3], int(lvl2_ok.sum()))]
    rest = np.setdiff1d(worked, lvl2, assume_unique=True)
    rng.shuffle(rest)
    on_time = rest[: alloc[0]]
    soon = rest[alloc[0]: alloc[0] + alloc[1]]
    lvl1 = rest[alloc[0] + alloc[1]:]
    _resub_on_time(on_time, arrived, resub, response, now_us, reminder[on_time], s, rng)
    _resub_due_soon(soon, arrived, resub, response, now_us, reminder[soon], rng)
    _resub_level1(lvl1, arrived, resub, response, now_us, stage2r[lvl1], rng)
    _resub_level2(lvl2, arrived, resub, response, now_us, stage2r[lvl2], rng)
    # the note that set the resubmission: in working hours where that keeps it before both
    noted_open = np.concatenate([on_time, soon, lvl1, lvl2])
    snapped = snap(response[noted_open])
    fits = (snapped <= now_us) & ((resub[noted_open] > now_us) | (snapped < resub[noted_open]))
    response[noted_open] = np.where(fits, snapped, response[noted_open])

    # completed leads: a first response, often a note with a resubmission, then the reason
    done = np.flatnonzero(~is_open)
    reason_w = [_REASON_WEIGHTS.get(code or "", 3) for _id, code, _label in reasons]
    reason_i = np.full(n, -1, dtype=np.int64)
    reason_i[done] = rng.choice(len(reasons), size=len(done), p=_weights(reason_w))
    quick = np.isin(reason_i[done], [i for i, r in enumerate(reasons) if r[1] in ("spam", "duplicate")])
    median = np.where(quick, 2 * HOUR, 4 * DAY).astype(float)
    took = (median * rng.lognormal(0.0, 0.9, size=len(done))).astype(np.int64) + 10 * MINUTE
    first = (40 * MINUTE * rng.lognormal(0.0, 1.1, size=len(done))).astype(np.int64)
    answered = snap(arrived[done] + np.minimum(first, 3 * DAY))
    response[done] = answered - answered % SECOND
    finished = np.minimum(snap(response[done] + took), now_us - SECOND)
    completed[done] = finished - finished % SECOND
    response[done] = np.minimum(response[done], completed[done])
    noted = done[(rng.random(len(done)) < 0.45) & ~quick]
    resub[noted] = _ceil(snap(response[noted] + rng.integers(2 * HOUR, 5 * DAY, size=len(noted))),
                         15 * MINUTE)

    # due, reminder and stage 2 exactly as duetime.due_times gives them
    from_resub = resub >= 0
    need_due = ~from_resub & ~unworked
    due[need_due] = arrival_due(np.flatnonzero(need_due))
    due[from_resub] = resub[from_resub]

    return {
        "n": n, "arrived": arrived, "source_id": np.array([r[0] for r in sources])[source_i],
        "lead_type": lead_type, "editor": editor, "created_by": created_by, "is_open": is_open,
        "resub": resub, "due": due, "reminder_at": due - reminder,
        "stage2_at": due + np.where(from_resub, stage2r, stage2), "response": response,
        "completed": completed, "reason_id": np.where(reason_i >= 0, np.array(
            [r[0] for r in reasons])[np.maximum(reason_i, 0)], -1),
        "reason_i": reason_i, "contact": contact, "contact_first_arrival": arrived[is_new],
        "lead_base": None, "contact_base": None,
    }


def _into_working_hours(moments: np.ndarray, opens: np.ndarray, closes: np.ndarray,
                        rng: np.random.Generator) -> np.ndarray:
    """Moments outside working time moved to early in the next working window (whole seconds)."""
    if not len(opens) or not len(moments):
        return moments
    k = np.searchsorted(closes, moments, side="right")
    known = k < len(opens)
    k = np.minimum(k, len(opens) - 1)
    outside = known & (opens[k] > moments)
    offset = (rng.random(len(moments)) * np.minimum(90 * MINUTE, closes[k] - opens[k])).astype(np.int64)
    moved = opens[k] + offset - offset % SECOND
    return np.where(outside, moved, moments)


def _state(now_us: int, due: np.ndarray, reminder: np.ndarray, stage2_at: np.ndarray) -> np.ndarray:
    return np.select([now_us >= stage2_at, now_us >= due, now_us >= due - reminder], [3, 2, 1], 0)


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split total into integer parts proportional to weights (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = total * w / w.sum()
    parts = np.floor(exact).astype(np.int64)
    parts[np.argsort(-(exact - parts))[: total - parts.sum()]] += 1
    return parts


def _ceil(values: np.ndarray, step: int) -> np.ndarray:
    return -(-values // step) * step


def _floor_if_after(values: np.ndarray, step: int, lower: np.ndarray) -> np.ndarray:
    """values rounded down to step where that stays strictly after lower."""
    floored = values - values % step
    return np.where(floored > lower, floored, values)


def _note_before(idx, arrived, until, rng) -> np.ndarray:
    """A note moment in [arrival, until), whole seconds."""
    span = np.maximum(until - arrived[idx], 1)
    moment = arrived[idx] + (span * rng.uniform(0.0, 0.9, size=len(idx))).astype(np.int64)
    return _floor_if_after(moment, SECOND, arrived[idx] - 1)


def _resub_on_time(idx, arrived, resub, response, now_us, reminder, s, rng) -> None:
    if not len(idx):
        return
    response[idx] = _note_before(idx, arrived, now_us, rng)
    today = _dt(now_us).astimezone(s.tz).date()
    opens, closes = _windows(s, today, today + timedelta(days=21))
    ahead = opens > now_us + reminder.max() + MINUTE
    opens, closes = opens[ahead], closes[ahead]
    soonest = _ceil(now_us + reminder + 16 * MINUTE, 15 * MINUTE)
    if not len(opens):
        resub[idx] = soonest + rng.integers(0, 96, size=len(idx)) * 15 * MINUTE
        return
    pick = rng.choice(len(opens), size=len(idx), p=_weights(np.exp(-np.arange(len(opens)) / 4.0)))
    quarters = np.maximum((closes[pick] - opens[pick]) // (15 * MINUTE), 1)
    chosen = opens[pick] + (rng.random(len(idx)) * quarters).astype(np.int64) * 15 * MINUTE
    later_today = rng.random(len(idx)) < 0.15
    resub[idx] = np.where(later_today, soonest, chosen)


def _resub_due_soon(idx, arrived, resub, response, now_us, reminder, rng) -> None:
    if not len(idx):
        return
    response[idx] = _note_before(idx, arrived, now_us, rng)
    floor = now_us - now_us % MINUTE
    in_minutes = floor + rng.integers(1, np.maximum(reminder // MINUTE, 1) + 1) * MINUTE
    resub[idx] = np.where(reminder >= MINUTE, in_minutes, now_us + reminder)


def _resub_level1(idx, arrived, resub, response, now_us, stage2r, rng) -> None:
    if not len(idx):
        return
    lo = np.maximum(arrived[idx], now_us - stage2r)
    moment = lo + ((now_us - lo) * rng.uniform(0.05, 0.95, size=len(idx))).astype(np.int64)
    resub[idx] = _floor_if_after(moment, MINUTE, lo)
    response[idx] = _note_before(idx, arrived, resub[idx], rng)


def _resub_level2(idx, arrived, resub, response, now_us, stage2r, rng) -> None:
    if not len(idx):
        return
    hi = now_us - stage2r - MINUTE
    back = (np.minimum(hi - arrived[idx], 10 * DAY) * rng.uniform(0.0, 0.9, size=len(idx))).astype(np.int64)
    resub[idx] = _floor_if_after(hi - back, MINUTE, arrived[idx])
    response[idx] = _note_before(idx, arrived, resub[idx], rng)


def _subject_pool(rng: np.random.Generator, per_type: int) -> list[str]:
    """per_type German subjects for each lead type, in _TYPE_CODES order."""
    pool = []
    for code in _TYPE_CODES:
        templates = _SUBJECTS.get(code, _SUBJECTS["other"])
        for _ in range(per_type):
            km = int(rng.integers(5, 180)) * 1000
            pool.append(templates[int(rng.integers(len(templates)))].format(
                m=_NEW_MODELS[int(rng.integers(len(_NEW_MODELS)))],
                u=_USED_MODELS[int(rng.integers(len(_USED_MODELS)))],
                y=int(rng.integers(2012, 2025)), km=f"{km:,}".replace(",", "."),
                n=int(rng.choice([24, 36, 48, 60])), kmy=f"{int(rng.choice([10, 15, 20, 25]))}.000"))
    return pool


def _leads_table(plan: dict, rng: np.random.Generator) -> pa.Table:
    n = plan["n"]
    per_type = 1500
    subject_i = plan["lead_type"] * per_type + rng.integers(0, per_type, size=n)
    subjects = _subject_pool(rng, per_type)
    has_note = rng.random(n) < 0.35
    note = _take(_LEAD_NOTES, rng.integers(0, len(_LEAD_NOTES), size=n))

    def none(values: np.ndarray) -> np.ndarray:       # -1 marks a missing moment or id
        return values < 0

    is_open = plan["is_open"]
    last = np.where(is_open, np.maximum(plan["arrived"], plan["response"]), plan["completed"])
    base = plan["lead_base"]
    return pa.table({
        "id": pa.array(base + np.arange(n), type=pa.int64()),
        "contact_id": pa.array(plan["contact_base"] + plan["contact"], type=pa.int64()),
        "source_id": pa.array(plan["source_id"], type=pa.int64()),
        "lead_type": _take(_TYPE_CODES, plan["lead_type"]),
        "subject": _take(subjects, subject_i),
        "note": pc.if_else(pa.array(has_note), note, pa.scalar(None, pa.string())),
        "editor_id": pa.array(plan["editor"], type=pa.int64()),
        "created_by": pa.array(plan["created_by"], type=pa.int64()),
        "status": pa.array(np.where(is_open, "open", "completed")),
        "arrived_at": _ts(plan["arrived"]),
        "resubmission_at": _ts(plan["resub"], none(plan["resub"])),
        "due_at": _ts(plan["due"]),
        "reminder_at": _ts(plan["reminder_at"]),
        "stage2_at": _ts(plan["stage2_at"]),
        "first_response_at": _ts(plan["response"], none(plan["response"])),
        "last_activity_at": _ts(last),
        "completed_at": _ts(plan["completed"], none(plan["completed"])),
        "completion_reason_id": pa.array(plan["reason_id"], type=pa.int64(),
                                         mask=none(plan["reason_id"])),
    })


def _contacts_table(plan: dict, names: _Names, rng: np.random.Generator) -> pa.Table:
    n = len(plan["contact_first_arrival"])
    created = plan["contact_first_arrival"] - rng.integers(0, 300, size=n) * SECOND
    male = rng.random(n) < 0.52
    company = rng.random(n) < 0.06
    person = ~company | (rng.random(n) < 0.6)

    first_pool = names.male + names.female
    first_i = np.where(male, rng.integers(0, len(names.male), size=n),
                       len(names.male) + rng.integers(0, len(names.female), size=n))
    last_i = rng.integers(0, len(names.last), size=n)
    blank = pa.scalar("", pa.string())
    person_a = pa.array(person)
    first = pc.if_else(person_a, _take(first_pool, first_i), blank)
    last = pc.if_else(person_a, _take(names.last, last_i), blank)
    salutation = pc.if_else(person_a, _take(["Frau", "Herr"], male.astype(np.int64)), blank)

    companies, slugs = [], []
    for _ in range(max(50, min(3000, n // 50))):
        l1, l2 = (names.last[int(i)] for i in rng.integers(0, len(names.last), size=2))
        name = _COMPANY_FORMS[int(rng.integers(len(_COMPANY_FORMS)))].format(l=l1, l2=l2)
        companies.append(name)
        slugs.append(_ascii(re.sub(r"\b(GmbH|AG|KG|Co)\b", "", name), "-").strip("-") or "firma")
    company_i = rng.integers(0, len(companies), size=n)
    company_name = pc.if_else(pa.array(company), _take(companies, company_i), blank)

    sort_name = _sort_names(first, last, company_name, person_a, first_pool, first_i, names.last,
                            last_i, companies, company_i, rng)

    # e-mail: person addresses at public mail providers, companies at their own domain
    first_ascii = [_ascii(x, "-") for x in first_pool]
    last_ascii = [_ascii(x, "-") for x in names.last]
    sep = _take([".", "", "_", "."], rng.integers(0, 4, size=n))
    number = pc.if_else(pa.array(rng.random(n) < 0.3), _str_ints(rng.integers(1, 99, size=n)), blank)
    personal = pc.binary_join_element_wise(
        _take(first_ascii, first_i), sep, _take(last_ascii, last_i), number, "@",
        _take(_MAIL_DOMAINS, rng.choice(len(_MAIL_DOMAINS), size=n, p=_weights(_MAIL_DOMAIN_WEIGHTS))), "")
    business = pc.binary_join_element_wise(
        _take(["info", "verkauf", "fuhrpark", "kontakt"], rng.integers(0, 4, size=n)), "@",
        _take(slugs, company_i), ".example", "")
    email = pc.if_else(pa.array(company), business, personal)
    has_email = rng.random(n) < 0.85

    # address: mostly around the dealership's locations
    places = []   # (postal code, city, area code)
    for location in _LOCATIONS.values():
        for (lo, hi), city, areas in location:
            for _ in range(60 if lo != hi else 15):
                places.append((f"{int(rng.integers(lo, hi + 1)):05d}", city, areas[0]))
    local_count = len(places)
    for postcode, city in names.places:
        places.append((postcode, city, _OTHER_AREAS[int(rng.integers(len(_OTHER_AREAS)))]))
    nearby = rng.random(n) < 0.8
    place_i = np.where(nearby, rng.integers(0, local_count, size=n),
                       rng.integers(local_count, len(places), size=n))
    has_address = rng.random(n) < 0.93
    house = pc.binary_join_element_wise(
        _str_ints(rng.integers(1, 180, size=n)),
        _take(("", "", "", "", "", "", "", "", "a", "b"), rng.integers(0, 10, size=n)), "")
    street = pc.binary_join_element_wise(
        _take(names.streets, rng.integers(0, len(names.streets), size=n)), house, " ")
    postal_code = _take([p[0] for p in places], place_i)
    city = _take([p[1] for p in places], place_i)

    # phones in E.164: landline by the city's area code, mobile by a German mobile prefix
    area = [p[2] for p in places]
    area_len = np.array([len(a) for a in area], dtype=np.int64)[place_i]
    digits = 10 - area_len                               # German numbers: 10 national digits
    subscriber = (2 + (rng.random(n) * 8)).astype(np.int64) * 10 ** (digits - 1) \
        + (rng.random(n) * 10 ** (digits - 1)).astype(np.int64)
    phone = pc.binary_join_element_wise("+49", _take(area, place_i), _str_ints(subscriber), "")
    mobile = pc.binary_join_element_wise(
        "+49", _take(_MOBILE_PREFIXES, rng.integers(0, len(_MOBILE_PREFIXES), size=n)),
        _str_ints(rng.integers(10_000_000, 100_000_000, size=n)), "")
    has_phone = rng.random(n) < np.where(company, 0.9, 0.4)
    has_mobile = rng.random(n) < np.where(company, 0.4, 0.75)
    has_mobile |= ~(has_phone | has_mobile | has_email)   # every contact can be reached somehow

    def keep(values: pa.Array, mask: np.ndarray) -> pa.Array:
        return pc.if_else(pa.array(mask), values, blank)

    base = plan["contact_base"]
    return pa.table({
        "id": pa.array(base + np.arange(n), type=pa.int64()),
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
        "created_at": _ts(created),
        "updated_at": _ts(created),
    })


def _sort_names(first, last, company, person, first_pool, first_i, last_pool, last_i,
                companies, company_i, rng) -> pa.Array:
    """contacts._sort_name of every contact ("last name or company, first name", folded).

    Folded per pool entry with contacts.sort_key and joined; a sample is compared with
    contacts._sort_name itself, and should they differ every name goes through it instead.
    """
    fold = getattr(contacts, "sort_key", str.lower)
    blank = pa.scalar("", pa.string())
    key_name = pc.if_else(person, _take([fold(x) for x in last_pool], last_i),
                          _take([fold(x) for x in companies], company_i))
    key_first = pc.if_else(person, _take([fold(x) for x in first_pool], first_i), blank)
    joined = pc.binary_join_element_wise(key_name, key_first, ", ")

    def reference(rows: np.ndarray | None) -> list[str]:
        pick = (lambda a: a.to_pylist()) if rows is None else (lambda a: a.take(pa.array(rows)).to_pylist())
        return [contacts._sort_name(contacts.ContactInput(first_name=f, last_name=la, company=c))
                for f, la, c in zip(pick(first), pick(last), pick(company))]

    sample = rng.choice(len(joined), size=min(len(joined), 300), replace=False)
    if joined.take(pa.array(sample)).to_pylist() == reference(sample):
        return joined
    return pa.array(reference(None), type=pa.string())


def _events_table(plan: dict, leads: pa.Table, reasons) -> pa.Table:
    """created (every lead), note (leads worked with a resubmission), completed (with the reason)."""
    n = plan["n"]
    lead_id = plan["lead_base"] + np.arange(n)
    noted = np.flatnonzero(plan["resub"] >= 0)
    done = np.flatnonzero(~plan["is_open"])
    rng = np.random.default_rng(int(plan["arrived"][0]) % 2**32)
    happened = np.concatenate([plan["arrived"], plan["response"][noted], plan["completed"][done]])
    order = np.argsort(happened, kind="stable")        # ids follow time, like the app's
    labels = [label for _id, _code, label in reasons]
    detail = pa.concat_arrays([
        leads.column("subject").combine_chunks(),
        _take(_WORK_NOTES, rng.integers(0, len(_WORK_NOTES), size=len(noted))),
        _take(labels, plan["reason_i"][done]),
    ])
    kind = np.concatenate([np.zeros(n, np.int64), np.ones(len(noted), np.int64),
                           np.full(len(done), 2, np.int64)])
    return pa.table({
        "id": pa.array(plan["event_base"] + np.arange(len(order)), type=pa.int64()),
        "lead_id": pa.array(np.concatenate([lead_id, lead_id[noted], lead_id[done]])[order]),
        "happened_at": _ts(happened[order]),
        "user_id": pa.array(np.concatenate([plan["created_by"], plan["editor"][noted],
                                            plan["editor"][done]])[order]),
        "kind": _take(("created", "note", "completed"), kind[order]),
        "detail": detail.take(pa.array(order)),
    })
