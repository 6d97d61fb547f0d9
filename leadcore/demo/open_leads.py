"""The open leads: which leads are still open, and resubmissions chosen so that, relative to
`now`, their traffic lights come out in OPEN_MIX."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from leadcore.demo.columns import DAY, HOUR, MINUTE, SECOND, ceil_to, dt, weights
from leadcore.rules import duetime
from leadcore.rules.vectorised import windows_between

OPEN_SHARE = 0.30           # share of leads still open
# on time, due soon, overdue (level 1), escalated (level 2) among the open leads
OPEN_MIX = (0.55, 0.10, 0.20, 0.15)

Moments = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class OpenLeads:
    """Per lead (times in µs; -1 for none)."""
    is_open: np.ndarray
    unworked: np.ndarray     # open and not worked yet: due from the arrival
    due: np.ndarray          # due_at of the unworked leads, 0 for the others
    resub: np.ndarray        # resubmission_at set by the note on a worked lead
    response: np.ndarray     # first_response_at: that note


def open_leads(arrived: np.ndarray, now_us: int, s: duetime.DueSettings, reminder: np.ndarray,
               stage2: np.ndarray, stage2r: np.ndarray, arrival_due: Moments, snap: Moments,
               rng: np.random.Generator) -> OpenLeads:
    """OPEN_SHARE of the leads (arrived sorted; reminder, stage2, stage2r per lead, in µs).

    arrival_due(indexes) gives those leads' due_at from their arrival; snap(moments) moves
    moments into working hours.
    """
    n = len(arrived)
    age = now_us - arrived
    # a weighted sample favouring recent arrivals (Efraimidis-Spirakis keys)
    n_open = int(round(OPEN_SHARE * n))
    key = np.log(rng.random(n)) / np.exp(-(age / DAY) / 12.0)
    is_open = np.zeros(n, dtype=bool)
    if n_open:
        is_open[np.argpartition(key, n - n_open)[n - n_open:]] = True

    # not worked yet: fresh arrivals, and a few neglected older ones
    fresh = age < 36 * HOUR
    unworked = is_open & np.where(fresh, rng.random(n) < 0.8, rng.random(n) < 0.03)
    due = np.zeros(n, dtype=np.int64)
    due[unworked] = arrival_due(np.flatnonzero(unworked))
    state = _state(now_us, due[unworked], reminder[unworked], due[unworked] + stage2[unworked])

    # worked: a note set a resubmission; choose it to reach the traffic-light mix
    resub = np.full(n, -1, dtype=np.int64)
    response = np.full(n, -1, dtype=np.int64)
    targets = np.round(np.array(OPEN_MIX) * n_open).astype(np.int64)
    need = np.maximum(0, targets - np.bincount(state, minlength=4))
    if reminder.max(initial=0) <= 0:   # "due soon" cannot happen without a reminder
        need[0] += need[1]
        need[1] = 0
    worked = np.flatnonzero(is_open & ~unworked)
    alloc = _apportion(len(worked), need if need.sum() else targets)
    rng.shuffle(worked)
    lvl2_ok = arrived[worked] < now_us - stage2r[worked] - 5 * MINUTE
    order = np.concatenate([worked[lvl2_ok], worked[~lvl2_ok]])
    lvl2 = order[: min(alloc[3], int(lvl2_ok.sum()))]
    rest = np.setdiff1d(worked, lvl2, assume_unique=True)
    rng.shuffle(rest)
    on_time = rest[: alloc[0]]
    soon = rest[alloc[0]: alloc[0] + alloc[1]]
    lvl1 = rest[alloc[0] + alloc[1]:]
    _resub_on_time(on_time, arrived, resub, response, now_us, reminder[on_time], s, rng)
    _resub_due_soon(soon, arrived, resub, response, now_us, reminder[soon], rng)
    _resub_level1(lvl1, arrived, resub, response, now_us, stage2r[lvl1], rng)
    _resub_level2(lvl2, arrived, resub, response, now_us, stage2r[lvl2], rng)
    # the note that set the resubmission: in working hours where that keeps it before both
    noted = np.concatenate([on_time, soon, lvl1, lvl2])
    snapped = snap(response[noted])
    fits = (snapped <= now_us) & ((resub[noted] > now_us) | (snapped < resub[noted]))
    response[noted] = np.where(fits, snapped, response[noted])
    return OpenLeads(is_open, unworked, due, resub, response)


def _state(now_us: int, due: np.ndarray, reminder: np.ndarray, stage2_at: np.ndarray) -> np.ndarray:
    """0 on time, 1 due soon, 2 overdue (level 1), 3 escalated (level 2)."""
    return np.select([now_us >= stage2_at, now_us >= due, now_us >= due - reminder], [3, 2, 1], 0)


def _apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Split total into integer parts proportional to shares (largest remainder)."""
    w = np.asarray(shares, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = total * w / w.sum()
    parts = np.floor(exact).astype(np.int64)
    parts[np.argsort(-(exact - parts))[: total - parts.sum()]] += 1
    return parts


def _floor_if_after(values: np.ndarray, step: int, lower: np.ndarray) -> np.ndarray:
    """values rounded down to step where that stays strictly after lower."""
    floored = values - values % step
    return np.where(floored > lower, floored, values)


def _note_before(idx, arrived, until, rng) -> np.ndarray:
    """A note moment in [arrival, until), whole seconds."""
    span = np.maximum(until - arrived[idx], 1)
    moment = arrived[idx] + (span * rng.uniform(0.0, 0.9, size=len(idx))).astype(np.int64)
    return _floor_if_after(moment, SECOND, arrived[idx] - 1)


def _resub_on_time(idx, arrived, resub, response, now_us, reminder, s, rng) -> None:
    if not len(idx):
        return
    response[idx] = _note_before(idx, arrived, now_us, rng)
    today = dt(now_us).astimezone(s.tz).date()
    opens, closes = windows_between(s, today, today + timedelta(days=21))
    ahead = opens > now_us + reminder.max() + MINUTE
    opens, closes = opens[ahead], closes[ahead]
    soonest = ceil_to(now_us + reminder + 16 * MINUTE, 15 * MINUTE)
    if not len(opens):
        resub[idx] = soonest + rng.integers(0, 96, size=len(idx)) * 15 * MINUTE
        return
    pick = rng.choice(len(opens), size=len(idx), p=weights(np.exp(-np.arange(len(opens)) / 4.0)))
    quarters = np.maximum((closes[pick] - opens[pick]) // (15 * MINUTE), 1)
    chosen = opens[pick] + (rng.random(len(idx)) * quarters).astype(np.int64) * 15 * MINUTE
    later_today = rng.random(len(idx)) < 0.15
    resub[idx] = np.where(later_today, soonest, chosen)


def _resub_due_soon(idx, arrived, resub, response, now_us, reminder, rng) -> None:
    if not len(idx):
        return
    response[idx] = _note_before(idx, arrived, now_us, rng)
    floor = now_us - now_us % MINUTE
    in_minutes = floor + rng.integers(1, np.maximum(reminder // MINUTE, 1) + 1) * MINUTE
    resub[idx] = np.where(reminder >= MINUTE, in_minutes, now_us + reminder)


def _resub_level1(idx, arrived, resub, response, now_us, stage2r, rng) -> None:
    if not len(idx):
        return
    lo = np.maximum(arrived[idx], now_us - stage2r)
    moment = lo + ((now_us - lo) * rng.uniform(0.05, 0.95, size=len(idx))).astype(np.int64)
    resub[idx] = _floor_if_after(moment, MINUTE, lo)
    response[idx] = _note_before(idx, arrived, resub[idx], rng)


def _resub_level2(idx, arrived, resub, response, now_us, stage2r, rng) -> None:
    if not len(idx):
        return
    hi = now_us - stage2r - MINUTE
    back = (np.minimum(hi - arrived[idx], 10 * DAY) * rng.uniform(0.0, 0.9, size=len(idx))).astype(np.int64)
    resub[idx] = _floor_if_after(hi - back, MINUTE, arrived[idx])
    response[idx] = _note_before(idx, arrived, resub[idx], rng)
