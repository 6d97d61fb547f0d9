"""The dealership's staff: the demo accounts, sellers at each location, their supervisors and
who reports to whom."""
from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from leadcore import db
from leadcore.demo.columns import DAY, TIMESTAMP, us
from leadcore.demo.store import bulk_insert, next_id
from leadcore.demo.world import LOCATIONS, NamePools, ascii_slug

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
_DEMO_SELLERS = [u for u, r, _n in DEMO_ACCOUNTS if r == "seller"]
_DEMO_SELLERS_REPORT_TO = "supervisor"
# E-mail domains under the reserved .example TLD (RFC 2606): valid addresses that can never
# reach a real person, should someone connect SMTP to a demo database.
MAIL_DOMAIN = "autohaus.example"


def insert_users(con: duckdb.DuckDBPyConnection, now: datetime, leads: int, names: NamePools,
                 password_hash: str, taken: set[str],
                 rng: np.random.Generator) -> tuple[int, np.ndarray, np.ndarray]:
    """Demo accounts plus sellers (about 12 at 10k leads, 60 at 1M) and their supervisors.

    Returns the number of users and the ids of the sellers and of the supervisors.
    """
    rows, seller_location, supervisors_at = _roster(leads, names, taken, rng)
    base = next_id(con, "user_id_seq")
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
        "created_at": pa.array([us(now) - 200 * DAY] * len(rows), type=TIMESTAMP),
    })
    bulk_insert(con, "users", table, "user_id_seq", lambda f, m: None, 0, 0, "")

    links = []
    for username, loc in seller_location.items():
        bosses = supervisors_at[loc] if username not in _DEMO_SELLERS else [_DEMO_SELLERS_REPORT_TO]
        links.append((ids[username], ids[bosses[len(links) % len(bosses)]]))
    manager = next(u for u, r, _n in DEMO_ACCOUNTS if r == "manager")
    for loc_supervisors in supervisors_at.values():
        links.extend((ids[u], ids[manager]) for u in loc_supervisors)
    db.insert_rows(con, "user_superiors",
                pa.table({"user_id": pa.array([a for a, _b in links], type=pa.int64()),
                          "superior_id": pa.array([b for _a, b in links], type=pa.int64())}))

    sellers = np.array([ids[u] for u in seller_location], dtype=np.int64)
    supervisors = np.array([ids[u] for loc in supervisors_at.values() for u in loc], dtype=np.int64)
    return len(rows), sellers, supervisors


def _roster(leads: int, names: NamePools, taken: set[str], rng: np.random.Generator
            ) -> tuple[list[tuple[str, str, str, str]], dict[str, str], dict[str, list[str]]]:
    """Everyone's (username, full name, role, location); each seller's location; the
    supervisors at each location."""
    n_sellers = int(min(60, max(4, round(12 * (max(leads, 1) / 10_000) ** 0.35))))
    locations = list(LOCATIONS)[: 2 if leads < 50_000 else 3]
    home = locations[0]
    rows = [(username, full_name, role, home) for username, role, full_name in DEMO_ACCOUNTS]
    used = taken | {r[0] for r in rows}

    def person() -> tuple[str, str]:
        first = str(rng.choice(names.male if rng.random() < 0.6 else names.female))
        full = f"{first} {rng.choice(names.last)}"
        base = ascii_slug(full.split(" ")[0], "-") + "." + ascii_slug(full.split(" ", 1)[1], "-")
        username, n = base, 1
        while username in used:
            n += 1
            username = f"{base}{n}"
        used.add(username)
        return username, full

    seller_location = {u: home for u in _DEMO_SELLERS}
    for i in range(n_sellers - len(_DEMO_SELLERS)):
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
    return rows, seller_location, supervisors_at
