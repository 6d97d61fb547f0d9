"""kill -9 in the middle of the work: what was committed stays whole, nothing is half-stored.

Lead creation (test_lead_creation_*): a child process creates leads in a loop on a temporary
database and is killed with SIGKILL at random moments, several times over the same file.
Afterwards every lead has exactly one `created` event and every event its lead: a lead and its
event are one unit of work, so a kill between the two statements leaves neither.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from leadcore import auth, db
from leadcore.admin import users
from leadcore.contacts import service as contacts
from leadcore.leads import service as leads

ROOT = Path(__file__).resolve().parents[2]
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
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
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
