"""Working time over whole columns: duetime's working windows as arrays, a vectorised twin of
duetime.add_working_time (checked against duetime on a sample each run), and moments moved into
working hours."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from leadcore.rules import duetime
from leadcore.demo.columns import DAY, MINUTE, SECOND, UTC, dt, td_us, us


def windows(s: duetime.DueSettings, first: date, last: date) -> tuple[np.ndarray, np.ndarray]:
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
            opens.append(us(start))
            closes.append(us(end))
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


def arrival_due(arrived: np.ndarray, s: duetime.DueSettings, rng: np.random.Generator) -> np.ndarray:
    """due_at (µs) of leads without resubmission: arrival + stage 1 in working time."""
    if len(arrived) == 0:
        return arrived.copy()
    stage1 = td_us(s.stage1)
    first = dt(arrived.min()).astimezone(s.tz).date() - timedelta(days=1)
    last = dt(arrived.max()).astimezone(s.tz).date() + timedelta(days=40 + 3 * (stage1 // DAY + 1))
    due = _add_working_time(arrived, stage1, *windows(s, first, last))
    if due is not None:
        sample = rng.choice(len(arrived), size=min(len(arrived), 300), replace=False)
        if all(us(duetime.due_times(dt(arrived[i]), None, s).due_at) == due[i] for i in sample):
            return due
    # Exotic settings (or a divergence from duetime): the exact, slower loop.
    return np.array([us(duetime.due_times(dt(a), None, s).due_at) for a in arrived], dtype=np.int64)


def into_working_hours(moments: np.ndarray, opens: np.ndarray, closes: np.ndarray,
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
