"""Crash safety: a process killed with SIGKILL at any moment leaves every unit of work whole
(all of it stored, or none of it), and running again finishes the job without doubling
anything.

Lead creation (test_lead_creation_*): a child process creates leads in a loop on a temporary
database and is killed at random moments, several times over the same file. Afterwards every
lead has exactly one `created` event and every event its lead: a lead and its event are one
unit of work, so a kill between the two statements leaves neither.

Intake (issue 11): `python -m leadcore intake FOLDER` over 600 generated ADF files on a temp
database (batches of 200 files), killed at random moments and once right after a batch's commit
(before its files are moved); then every file is all-or-nothing, and a re-run adds no log row,
no event and no outbox mail for a file already taken in."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from leadcore import auth, db
from leadcore.admin import settings, users
from leadcore.contacts import service as contacts
from leadcore.leads import service as leads
from tests import factories

PROJECT = Path(__file__).resolve().parents[2]

# --- lead creation ---------------------------------------------------------------------------

KILLS = 5

# The child: create leads as fast as it can, saying after each how many it made.
CREATOR = """
import sys
from datetime import datetime
from leadcore import auth, db
from leadcore.leads import service as leads
from leadcore.auth import get_user
con = db.connect(sys.argv[1])
cur = con.cursor()
seller = get_user(cur, int(sys.argv[2]))
now = datetime.fromisoformat(sys.argv[4])
source = cur.execute("SELECT min(id) FROM sources WHERE active").fetchall()[0][0]
print("ready", flush=True)
n = 0
while True:
    leads.create_lead(cur, seller, now, leads.LeadInput(int(sys.argv[3]), source, "new_car",
                      f"Lead {n}", seller.id, note="x" * (n % 500)))
    n += 1
"""


def _prepare(path: Path, now) -> tuple[int, int]:
    con = db.connect(path)
    cur = con.cursor()
    seller = users.add_user(cur, now, "anna", "Anna Becker", "anna@autohaus.example", "seller", "long enough")
    contact = contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(last_name="Kunde"))
    con.close()
    return seller.id, contact.id


def _run_and_kill(path: Path, seller_id: int, contact_id: int, now, rng: random.Random) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CREATOR, str(path), str(seller_id), str(contact_id), now.isoformat()],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)})
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(rng.uniform(0.05, 0.6))      # somewhere in the middle of some create_lead
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


def test_lead_creation_killed_at_random_moments_leaves_whole_leads(tmp_path, now):
    path = tmp_path / "crash.duckdb"
    seller_id, contact_id = _prepare(path, now)
    rng = random.Random(11)
    counts = []
    for _ in range(KILLS):
        _run_and_kill(path, seller_id, contact_id, now, rng)
        con = db.connect(path)                  # opens (and replays) after every kill
        counts.append(con.execute("SELECT count(*) FROM leads").fetchall()[0][0])
        con.close()
    assert counts == sorted(counts) and counts[-1] > 0     # committed leads survive the next kill

    con = db.connect(path)
    try:
        without_one_created = con.execute("""
            SELECT l.id, count(e.id) FROM leads l
            LEFT JOIN lead_events e ON e.lead_id = l.id AND e.kind = 'created'
            GROUP BY l.id HAVING count(e.id) <> 1""").fetchall()
        orphans = con.execute("""
            SELECT count(*) FROM lead_events e WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = e.lead_id)
            """).fetchall()[0][0]
        half = con.execute("""
            SELECT count(*) FROM leads WHERE due_at IS NULL OR reminder_at IS NULL OR stage2_at IS NULL
                OR subject NOT LIKE 'Lead %' OR length(coalesce(note, '')) >= 500
            """).fetchall()[0][0]
        assert without_one_created == [] and orphans == 0 and half == 0
    finally:
        con.close()


def test_lead_creation_after_a_kill_goes_on_where_it_stopped(tmp_path, now):
    """The database opens for writing after a kill and the next lead gets the next id."""
    path = tmp_path / "crash.duckdb"
    seller_id, contact_id = _prepare(path, now)
    _run_and_kill(path, seller_id, contact_id, now, random.Random(7))
    con = db.connect(path)
    try:
        before = con.execute("SELECT coalesce(max(id), 0), count(*) FROM leads").fetchall()[0]
        cur = con.cursor()
        seller = auth.get_user(cur, seller_id)
        source = cur.execute("SELECT min(id) FROM sources WHERE active").fetchall()[0][0]
        new = leads.create_lead(cur, seller, now, leads.LeadInput(contact_id, source, "new_car", "After", seller_id))
        assert new > before[0]
        assert cur.execute("SELECT count(*) FROM lead_events WHERE lead_id = ? AND kind = 'created'",
                           [new]).fetchall() == [(1,)]
    finally:
        con.close()


# --- intake ------------------------------------------------------------------------------------

FILES = 600
BATCH = 200                      # three batches: more moments between commits and moves
# Kills the intake the moment it first moves a file: right after the first batch's commit.
_KILL_AFTER_COMMIT = (
    "import os, signal, sys\n"
    "from leadcore.intake import folder\n"
    "def _die(*args, **kwargs):\n"
    "    os.kill(os.getpid(), signal.SIGKILL)\n"
    "folder._move = _die\n"
    "from leadcore.__main__ import main\n"
    "sys.exit(main(['intake', '--batch-size', sys.argv[2], sys.argv[1]]))\n")


def _adf(i: int) -> bytes:
    return (f'<?xml version="1.0"?><adf><prospect><id source="Crash test">C-{i}</id>'
            f'<requestdate>2026-11-27T08:00:00+01:00</requestdate>'
            f'<vehicle interest="buy" status="used"><make>Skoda</make><model>Octavia</model></vehicle>'
            f'<customer><contact><name part="first">Kunde</name><name part="last">Nummer{i:04d}</name>'
            f'<email>kunde{i}@example.de</email></contact><comments>Anfrage {i}</comments></customer>'
            f'<provider><name>mobile.de</name></provider></prospect></adf>').encode()


def _run(db_path: Path, inbox: Path, kill_after: float | None = None, after_commit: bool = False) -> int | None:
    env = {**factories.database_env(db_path), "PYTHONPATH": str(PROJECT)}
    command = ([sys.executable, "-c", _KILL_AFTER_COMMIT, str(inbox), str(BATCH)] if after_commit
               else [sys.executable, "-m", "leadcore", "intake", "--batch-size", str(BATCH), str(inbox)])
    child = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_after is None:
        return child.wait(timeout=600)
    try:
        return child.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        return None


def _state(db_path: Path) -> dict:
    con = db.connect(db_path)
    try:
        cur = con.cursor()
        one = lambda sql: cur.execute(sql).fetchall()
        return {
            "log_per_hash": dict(one("SELECT content_hash, count(*) FROM intake_log GROUP BY content_hash")),
            "leads": one("SELECT count(*) FROM leads")[0][0],
            "events": one("SELECT count(*) FROM lead_events")[0][0],
            "outbox": one("SELECT count(*) FROM outbox")[0][0],
            # Per lead taken in: its log row, created + assigned events, autoresponder + forward.
            "whole": one("SELECT count(*) FROM intake_log g JOIN leads l ON l.id = g.lead_id"
                         " WHERE (SELECT count(*) FROM lead_events e WHERE e.lead_id = l.id) = 2"
                         " AND (SELECT count(*) FROM outbox o WHERE o.lead_id = l.id AND o.kind = 'autoresponder') = 1"
                         " AND (SELECT count(*) FROM outbox o WHERE o.lead_id = l.id AND o.kind = 'forward') = 1")[0][0],
            "log_rows": one("SELECT count(*) FROM intake_log")[0][0],
        }
    finally:
        con.close()


def _check_whole(state: dict) -> None:
    """Every file taken in is whole and in once; nothing half-stored exists."""
    assert all(n == 1 for n in state["log_per_hash"].values())
    assert state["leads"] == state["log_rows"] == state["whole"]
    assert state["events"] == 2 * state["leads"] and state["outbox"] == 2 * state["leads"]


def test_intake_killed_at_any_moment_loses_and_doubles_nothing(db_path, con, cur, supervisor, tmp_path):
    settings.put(cur, "forwarding_target", "crm@autohaus.example")
    cur.close()
    con.close()                      # the child processes open the file themselves
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(FILES):
        (inbox / f"lead_{i:04d}.xml").write_bytes(_adf(i))
    rng = random.Random(11)

    # Right after the first batch's commit, before any of its files moved.
    _run(db_path, inbox, after_commit=True)
    state = _state(db_path)
    _check_whole(state)
    assert state["leads"] == BATCH and len(list(inbox.glob("*.xml"))) == FILES   # stored, none moved yet

    # The same files again: skipped (same content), no new row, event or mail; then moved.
    for delay in (rng.uniform(0.3, 4.0) for _ in range(4)):
        before = _state(db_path)
        _run(db_path, inbox, kill_after=delay)
        after = _state(db_path)
        _check_whole(after)
        assert after["leads"] >= before["leads"]

    assert _run(db_path, inbox) == 0
    final = _state(db_path)
    _check_whole(final)
    assert final["leads"] == FILES and len(final["log_per_hash"]) == FILES
    assert list(inbox.glob("*.xml")) == []
    assert len(list((inbox / "done").iterdir())) == FILES

    # Taking in the finished files again changes nothing at all.
    for path in (inbox / "done").iterdir():
        path.rename(inbox / path.name)
    assert _run(db_path, inbox) == 0
    assert _state(db_path) == final
    # No parsing helper of a killed intake is left behind, waiting forever.
    assert _left_behind(inbox) == []


def _left_behind(inbox: Path, seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and str(inbox) in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(proc.name))
            except OSError:
                continue
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
