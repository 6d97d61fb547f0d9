"""Crash safety: a process killed with SIGKILL at any moment leaves every unit of work whole
(all of it stored, or none of it), and running again finishes the job without doubling
anything.

Intake part (issue 11): `python -m leadcore intake FOLDER` over 600 generated ADF files on a
temp database (batches of 200 files), killed at random moments and once right after a batch's commit (before its
files are moved); then every file is all-or-nothing, and a re-run adds no log row, no event
and no outbox mail for a file already taken in."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from leadcore import db
from leadcore.admin import settings

PROJECT = Path(__file__).resolve().parents[2]
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
    env = {**os.environ, "LEADCORE_DB": str(db_path), "PYTHONPATH": str(PROJECT)}
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
            "log_per_hash": dict(one("SELECT content_hash, count(*) FROM intake_log GROUP BY ALL")),
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
