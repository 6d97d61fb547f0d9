"""duetime's working-time rule over whole columns: the same working windows as numbers.

The rule lives once, in leadcore.rules.duetime (`working_window` per local date). This module
only lays those windows out as sorted arrays of epoch microseconds and walks many starts
through them at once with numpy, so that re-deriving 300,000 due times or generating a million
demo leads takes a fraction of a second. A property test keeps `add_working_time_us` equal to
duetime.add_working_time on random inputs, DST days included.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np

from leadcore.rules import duetime
from leadcore.rules.duetime import DueSettings

__all__ = ["epoch_us", "windows_between", "add_working_time_us"]

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_US = timedelta(microseconds=1)


def epoch_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch, as DuckDB's epoch_us() counts them."""
    return (moment - _EPOCH) // _US


def _local_ordinal(us: int, s: DueSettings) -> int:
    return (_EPOCH + timedelta(microseconds=int(us))).astimezone(s.tz).date().toordinal()


def _window_us(ordinal: int, s: DueSettings) -> tuple[int, int] | None:
    window = duetime.working_window(date.fromordinal(ordinal), s)
    return None if window is None else (epoch_us(window[0]), epoch_us(window[1]))


def windows_between(s: DueSettings, first: date, last: date) -> tuple[np.ndarray, np.ndarray]:
    """Openings and closings (epoch µs) of the working windows of local dates first..last."""
    found = [w for o in range(first.toordinal(), last.toordinal() + 1) if (w := _window_us(o, s))]
    return (np.array([w[0] for w in found], dtype=np.int64),
            np.array([w[1] for w in found], dtype=np.int64))


def _windows_for(starts: np.ndarray, amount: int, s: DueSettings) -> tuple[np.ndarray, np.ndarray]:
    """Windows from the earliest start's local date on, far enough that `amount` of working time
    fits after the latest start; duetime's scan limit applies."""
    latest = int(starts.max())
    first, last = _local_ordinal(int(starts.min()), s), _local_ordinal(latest, s)
    openings, closings = [], []
    room = 0   # working time after the latest start in the windows so far
    ordinal = first
    while ordinal <= last or room < amount or not closings or closings[-1] <= latest:
        if ordinal - last >= duetime.MAX_SCAN_DAYS:
            raise ValueError(f"no room for {timedelta(microseconds=amount)} of working time within "
                             f"{duetime.MAX_SCAN_DAYS} days (are the holidays closing everything?)")
        window = _window_us(ordinal, s)
        if window:
            openings.append(window[0])
            closings.append(window[1])
            room += max(0, window[1] - max(window[0], latest))
        ordinal += 1
    return np.array(openings, dtype=np.int64), np.array(closings, dtype=np.int64)


def add_working_time_us(starts: np.ndarray, amount: timedelta, s: DueSettings) -> np.ndarray:
    """duetime.add_working_time for many starts at once (epoch microseconds in and out)."""
    starts = np.asarray(starts, dtype=np.int64)
    if len(starts) == 0:
        return starts
    if not any(w is not None for w in s.working_hours):
        raise ValueError("working hours are closed on every weekday: there is no working time to count")
    amount_us = amount // _US
    openings, closings = _windows_for(starts, amount_us, s)
    lengths = closings - openings
    done_before = np.cumsum(lengths) - lengths            # working time before each window
    done_after = done_before + lengths
    # The first window still open at the start; a start before its opening waits for it.
    i = np.searchsorted(closings, starts, side="right")
    if amount_us == 0:
        return np.maximum(starts, openings[i])
    worked = done_before[i] + np.clip(starts - openings[i], 0, lengths[i])
    target = worked + amount_us
    # The first window whose end reaches the target; a target that fills a window exactly ends
    # at its closing time (as duetime does), hence side="left".
    k = np.searchsorted(done_after, target, side="left")
    return openings[k] + (target - done_before[k])
