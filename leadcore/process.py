"""The little state one leadcore process keeps between runs, in one place (everything else
lives in the database): the writer turn of every unit of work, the locks that keep two runs of
a job of this process apart, when the escalation sweep last ran, and which database files this
process has announced in its log. Tests start from a fresh `reset()`. (Caches of pure results,
such as the compiled catalogues and working windows, are not state: they live beside their
functions.)"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class ProcessState:
    # The server sweeps on its scheduler thread and, throttled, on page loads; the lock keeps
    # two sweeps of one process apart (the sweep's anti-join cannot see another transaction's
    # uncommitted notifications).
    sweep_lock: threading.Lock = field(default_factory=threading.Lock)
    last_sweep: float = float("-inf")       # time.monotonic() of the last finished sweep
    # One sender at a time per process: two would claim the same batch size twice.
    outbox_lock: threading.Lock = field(default_factory=threading.Lock)
    # The writer turn of db.write: DuckDB raises no conflict against a writer that already
    # committed, so one process (the one writer of a DuckDB file) takes turns (see db.write).
    writer: threading.RLock = field(default_factory=threading.RLock)
    # Intake batches take turns: they all move the round-robin pointer.
    intake_turns: threading.Lock = field(default_factory=threading.Lock)
    # One Explore SQL-box query at a time: it lowers the database's memory limit and threads.
    sql_box: threading.Lock = field(default_factory=threading.Lock)
    # Database files whose opening this process has logged (once each), and its guard; the
    # server's logging is configured once under the same guard.
    announced: set = field(default_factory=set)
    announce_lock: threading.Lock = field(default_factory=threading.Lock)


PROCESS = ProcessState()


def reset() -> ProcessState:
    """A fresh state (tests): no sweep ran yet, no lock held."""
    global PROCESS
    PROCESS = ProcessState()
    return PROCESS
