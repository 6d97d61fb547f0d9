"""The app's clock. Rules never read the time themselves: pages and the CLI pass `now()` in.

LEADCORE_NOW (ISO 8601 with offset) pins the clock for demos and tests.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone


def now() -> datetime:
    pinned = os.environ.get("LEADCORE_NOW")
    if pinned:
        moment = datetime.fromisoformat(pinned)
        if moment.tzinfo is None:
            raise ValueError("LEADCORE_NOW needs a UTC offset, e.g. 2026-11-27T10:00:00+01:00")
        return moment.astimezone(timezone.utc)
    return datetime.now(timezone.utc)
