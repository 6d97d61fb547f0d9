"""The little state one leadcore process keeps between runs, in one place (everything else
lives in the database): the locks that keep two runs of a background job of this process
apart, and when the escalation sweep last ran. Tests start from a fresh `reset()`."""
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


PROCESS = ProcessState()


def reset() -> ProcessState:
    """A fresh state (tests): no sweep ran yet, no lock held."""
    global PROCESS
    PROCESS = ProcessState()
    return PROCESS
