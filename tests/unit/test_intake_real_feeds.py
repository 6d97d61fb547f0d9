"""The real-feed corpus (tests/data/intake/real, issue 9): every file taken in on a fresh database
with a pinned clock and checked against expected.toml: contact, phones (E.164 or raw and
flagged), what the customer wrote, vehicles (trade-in as its own row), source from the
provider, arrival, rejections, merges, possible duplicates, and no mail to a no-reply address.

Files sharing a `group` go in one after the other into the same database, in table order."""
from __future__ import annotations

import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from leadcore.admin import settings
from leadcore.auth import SYSTEM
from leadcore.intake import intake_file

REAL = Path(__file__).parents[1] / "data" / "intake" / "real"
CASES = tomllib.loads((REAL / "expected.toml").read_text(encoding="utf-8"))["case"]
_ADF_INTEREST = {"trade_in": "trade-in", "test_drive": "test-drive"}


def _groups() -> list[list[dict]]:
    groups: list[list[dict]] = []
    for case in CASES:
        if case.get("group") and groups and groups[-1][0].get("group") == case["group"]:
            groups[-1].append(case)
        else:
            groups.append([case])
    return groups


GROUPS = _groups()


def _configure(cur, dealership: dict) -> None:
    settings.put(cur, "mailbox_address", dealership.get("mailbox", ""))
    settings.put(cur, "dealership_country", dealership.get("country", ""))
    settings.put(cur, "timezone", dealership.get("timezone", "Europe/Berlin"))


def _one(cur, sql: str, params: list) -> tuple | None:
    rows = cur.execute(sql, params).fetchall()
    return rows[0] if rows else None


def test_the_corpus_has_a_case_per_file():
    files = sorted(p.name for p in REAL.iterdir() if p.suffix in (".xml", ".eml"))
    assert sorted(c["file"] for c in CASES) == files
    assert len(files) >= 30


@pytest.mark.parametrize("group", GROUPS, ids=[g[0]["file"] for g in GROUPS])
def test_real_feed(cur, now, seller, group):
    leads_of: dict[str, int] = {}
    contacts_of: dict[str, int] = {}
    for case in group:
        _configure(cur, case["dealership"])
        result = intake_file(cur, SYSTEM, now, case["file"], (REAL / case["file"]).read_bytes())
        _check_outcome(case, result)
        if result.lead_id:
            leads_of[case["file"]] = result.lead_id
            contacts_of[case["file"]] = cur.execute("SELECT contact_id FROM leads WHERE id = ?",
                                                    [result.lead_id]).fetchall()[0][0]
        _check_mail(cur, case, result)
        if case["outcome"] == "partial":
            _check_parts(cur, case, result)
            continue
        if result.outcome == "rejected":
            continue
        _check_contact(cur, case, result.lead_id, contacts_of)
        _check_lead(cur, case, result.lead_id, now)
        _check_vehicles(cur, case, result.lead_id)
        if case.get("same_lead_as"):
            assert result.lead_id == leads_of[case["same_lead_as"]]
        for other in case.get("different_lead_from", []):
            assert result.lead_id != leads_of[other], f"{case['file']} merged into {other}"
            assert contacts_of[case["file"]] != contacts_of[other]


def _check_outcome(case: dict, result) -> None:
    assert result.outcome == case["outcome"], (case["file"], result.reason)
    if case.get("reject_reason"):
        assert case["reject_reason"] in result.reason.lower(), result.reason


def _check_mail(cur, case: dict, result) -> None:
    lead_ids = [p.lead_id for p in result.parts if p.lead_id] or ([result.lead_id] if result.lead_id else [])
    mails = cur.execute(
        "SELECT recipient_email FROM outbox WHERE kind = 'autoresponder' AND lead_id IN (SELECT unnest(?::BIGINT[]))",
        [lead_ids]).fetchall()
    customers = {r[0] for r in cur.execute(
        "SELECT lower(c.email) FROM leads l JOIN contacts c ON c.id = l.contact_id"
        " WHERE l.id IN (SELECT unnest(?::BIGINT[]))", [lead_ids]).fetchall()}
    if not case.get("autoresponder", True) and case["outcome"] != "merged":
        assert mails == [], case["file"]
    for (recipient,) in mails:
        assert recipient.lower() in customers
    for address in case.get("never_mail_to", []):
        assert cur.execute("SELECT count(*) FROM outbox WHERE lower(recipient_email) = ?"
                           " AND kind <> 'forward'", [address]).fetchall()[0][0] == 0
        assert cur.execute("SELECT count(*) FROM contacts WHERE lower(email) = ?", [address]).fetchall()[0][0] == 0


def _phones(cur, contact_id: int) -> list[tuple]:
    return cur.execute("SELECT number, raw, kind FROM contact_phones WHERE contact_id = ? ORDER BY position",
                       [contact_id]).fetchall()


def _check_contact(cur, case: dict, lead_id: int, contacts_of: dict) -> None:
    expected = case.get("contact", {})
    contact_id, first, last, email, postal, city, country, duplicate = cur.execute(
        "SELECT c.id, c.first_name, c.last_name, c.email, c.postal_code, c.city, c.country, c.possible_duplicate_of"
        " FROM leads l JOIN contacts c ON c.id = l.contact_id WHERE l.id = ?", [lead_id]).fetchall()[0]
    actual = {"first_name": first or "", "last_name": last or "", "email": (email or "").lower(),
              "postal_code": postal or "", "city": city or "", "country": country or ""}
    for key, value in actual.items():
        if key in expected:
            assert value == (expected[key].lower() if key == "email" else expected[key]), (case["file"], key)
    phones = _phones(cur, contact_id)
    if not phones:   # a contact found by e-mail keeps its own numbers
        phones = [(n, n, "") for n in cur.execute("SELECT phone, mobile FROM contacts WHERE id = ?",
                                                  [contact_id]).fetchall()[0] if n]
    if "phones" in expected:
        assert sorted(n for n, _r, _k in phones if n) == sorted(expected["phones"]), case["file"]
    if "phone_types" in expected:
        kinds = {n: k for n, _r, k in phones if n}
        assert [kinds[n] for n in expected["phones"]] == expected["phone_types"]
    if "raw_phones" in expected:
        assert [r for n, r, _k in phones if n is None] == expected["raw_phones"], case["file"]
        if expected["raw_phones"]:
            assert cur.execute("SELECT count(*) FROM lead_events WHERE lead_id = ? AND kind = 'flagged'"
                               " AND detail LIKE '%' || ? || '%'", [lead_id, expected["raw_phones"][0]]
                               ).fetchall()[0][0] == 1
    if "possible_duplicate_of" in expected:
        assert duplicate == contacts_of[expected["possible_duplicate_of"]]
        first_contact = contacts_of[expected["possible_duplicate_of"]]
        assert first_contact != contact_id
    elif case["outcome"] == "created":
        assert duplicate is None, case["file"]


def _seller_text(cur, lead_id: int) -> str:
    """Everything a seller reads on the lead: note, events, vehicles, origin."""
    note = cur.execute("SELECT coalesce(note, '') || ' ' || subject FROM leads WHERE id = ?", [lead_id]).fetchall()[0][0]
    events = " ".join(r[0] for r in cur.execute("SELECT detail FROM lead_events WHERE lead_id = ?", [lead_id]).fetchall())
    vehicles = " ".join(" ".join(str(v) for v in row if v is not None) for row in cur.execute(
        "SELECT comments, colors, finance, condition FROM lead_vehicles WHERE lead_id = ?", [lead_id]).fetchall())
    origin = _one(cur, "SELECT coalesce(timeframe, '') FROM lead_origins WHERE lead_id = ?", [lead_id])
    return " ".join((note, events, vehicles, origin[0] if origin else ""))


def _check_lead(cur, case: dict, lead_id: int, now: datetime) -> None:
    expected = case.get("lead", {})
    source, arrived = cur.execute("SELECT s.name, l.arrived_at FROM leads l JOIN sources s ON s.id = l.source_id"
                                  " WHERE l.id = ?", [lead_id]).fetchall()[0]
    if "source" in expected:
        assert source == expected["source"], case["file"]
    text = " ".join(_seller_text(cur, lead_id).split())
    for words in expected.get("comments_contain", []):
        assert " ".join(words.split()) in text, (case["file"], words)
    origin = _one(cur, "SELECT provider_name, provider_email, provider_url, vendor_name, arrival_unreadable"
                       " FROM lead_origins WHERE lead_id = ?", [lead_id]) or (None,) * 5
    if "arrived_at" in expected and case["outcome"] == "created":
        assert arrived == datetime.fromisoformat(expected["arrived_at"]), case["file"]
    if expected.get("arrival_unreadable"):
        assert origin[4] is True and arrived == now
        assert cur.execute("SELECT count(*) FROM lead_events WHERE lead_id = ? AND kind = 'flagged'"
                           " AND detail LIKE '%request date%'", [lead_id]).fetchall()[0][0] == 1
    for key, column in (("name", 0), ("email", 1), ("url", 2)):
        if key in expected.get("provider", {}):
            assert origin[column] == expected["provider"][key], (case["file"], key)
    if "vendor" in expected and case["outcome"] == "created":
        assert origin[3] == expected["vendor"]


_VEHICLE_COLUMNS = {"interest": "interest", "status": "status", "year": "year", "make": "make", "model": "model",
                    "trim": "trim", "vin": "vin", "stock": "stock", "odometer": "odometer",
                    "odometer_units": "odometer_units", "price": "price", "price_type": "price_type",
                    "currency": "currency", "vin_conflict": "year_conflict", "condition": "condition"}


def _check_vehicles(cur, case: dict, lead_id: int) -> None:
    expected = case.get("vehicles", [])
    if not expected:
        return
    columns = list(_VEHICLE_COLUMNS.values())
    rows = [dict(zip(columns, r)) for r in cur.execute(
        f"SELECT {', '.join(columns)} FROM lead_vehicles WHERE lead_id = ? ORDER BY position", [lead_id]).fetchall()]
    assert len(rows) == len(expected), case["file"]
    for want, row in zip(expected, rows):
        for key, value in want.items():
            actual = row[_VEHICLE_COLUMNS[key]]
            if key == "interest":
                actual = _ADF_INTEREST.get(actual, actual)
            if key == "price":
                value = Decimal(str(value))
            if key == "make" and isinstance(actual, str):
                actual, value = actual.lower(), value.lower()
            assert actual == value, (case["file"], key, actual, value)


def _check_parts(cur, case: dict, result) -> None:
    by_name = {p.part: p for p in result.parts}
    leads = []
    for want in case["parts"]:
        part = by_name[want["attachment"]]
        assert part.outcome == want["outcome"], (want["attachment"], part.reason)
        if want.get("reject_reason"):
            assert want["reject_reason"] in part.reason.lower()
        if part.lead_id:
            leads.append(part.lead_id)
            first, last, email = cur.execute("SELECT c.first_name, c.last_name, c.email FROM leads l JOIN contacts c"
                                             " ON c.id = l.contact_id WHERE l.id = ?", [part.lead_id]).fetchall()[0]
            assert (first, last, email) == (want["first_name"], want["last_name"], want["email"])
    assert len(set(leads)) == len(leads)
    logged = cur.execute("SELECT part, outcome FROM intake_log WHERE file_name = ? ORDER BY part",
                         [case["file"]]).fetchall()
    assert logged == sorted((w["attachment"], w["outcome"]) for w in case["parts"])


def test_an_oversized_file_is_rejected_naming_its_size(cur, now, seller):
    padding = b"<!--" + b"x" * (11 * 1024 * 1024) + b"-->"
    data = (REAL / "adf_full_dtd.xml").read_bytes() + padding
    result = intake_file(cur, SYSTEM, now, "huge.xml", data)
    assert result.outcome == "rejected"
    assert "size" in result.reason and "MB" in result.reason
