"""Planning the leads as whole columns: arrivals, sources and lead types, editors, repeat
customers, completion, and due, reminder and stage-2 times exactly as duetime.due_times gives them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import numpy as np

from leadcore.demo.columns import DAY, HOUR, MINUTE, SECOND, UTC, ceil_to, dt, td_us, us, weights
from leadcore.demo.open_leads import Moments, open_leads
from leadcore.demo.worktime import into_working_hours
from leadcore.leads.service import LEAD_TYPES
from leadcore.rules import duetime
from leadcore.rules.vectorised import add_working_time_us, windows_between

HISTORY_DAYS = 182          # leads arrive over the last ~6 months
CONTACTS_PER_LEAD = 0.6     # the rest are repeat customers
TYPE_CODES = tuple(LEAD_TYPES)   # new_car, used_car, service, trade_in, financing, other

_SOURCE_WEIGHTS = {"mobile.de": 30, "AutoScout24": 24, "Website form": 16, "Phone": 12,
                   "Walk-in": 10, "E-mail": 8}
# The same weights by channel: a dealership started in German names its sources in German.
_CHANNEL_WEIGHTS = {"website": 16, "phone": 12, "walk-in": 10, "e-mail": 8}
# lead-type mix per source channel (order of TYPE_CODES)
_TYPE_MIX = {
    "marketplace": (20, 65, 0, 5, 8, 2),
    "website": (35, 25, 15, 10, 10, 5),
    "phone": (20, 20, 35, 10, 5, 10),
    "walk-in": (35, 30, 5, 15, 10, 5),
    "e-mail": (25, 25, 20, 10, 10, 10),
}
_DEFAULT_TYPE_MIX = (30, 35, 12, 10, 8, 5)
_REASON_WEIGHTS = {"sold": 25, "bought_elsewhere": 20, "no_interest": 24, "not_reachable": 16,
                   "duplicate": 8, "spam": 7}
# hour-of-day (local) and weekday (Monday first) rhythm of incoming leads
_HOUR_WEIGHTS = (0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 3, 5, 6, 6, 5, 5, 5.5, 5.5, 5, 4.5,
                 3.5, 3.5, 3.5, 3, 1.8, 0.8)
_WEEKDAY_WEIGHTS = (1.15, 1.0, 1.0, 1.0, 0.95, 0.8, 0.45)


@dataclass(frozen=True)
class LeadPlan:
    """Every lead column as arrays, leads sorted by arrival; times in µs, -1 for none.

    Indexes, not ids: contact counts from 0 (contact_first_arrival[contact] is when that
    contact first came), reason_i into the completion reasons; the ids come when the rows do.
    """
    arrived: np.ndarray
    source_id: np.ndarray
    lead_type: np.ndarray          # index into TYPE_CODES
    editor: np.ndarray
    created_by: np.ndarray
    is_open: np.ndarray
    resub: np.ndarray
    due: np.ndarray
    reminder_at: np.ndarray
    stage2_at: np.ndarray
    response: np.ndarray           # first_response_at (and the note event)
    completed: np.ndarray
    reason_id: np.ndarray
    reason_i: np.ndarray
    contact: np.ndarray
    contact_first_arrival: np.ndarray

    @property
    def n(self) -> int:
        return len(self.arrived)


def plan_leads(n: int, now_us: int, s: duetime.DueSettings, rules: list[duetime.DueSettings],
               sources, reasons, sellers: np.ndarray, supervisors: np.ndarray,
               rng: np.random.Generator) -> LeadPlan:
    """n leads arriving before now_us, each worked by one of sellers (or now and then supervisors).

    s: the global rules (time zone, working hours, holidays); rules[i]: those of sources[i].
    """
    arrived = _arrivals(n, now_us, s.tz, rng)
    source_i, lead_type = _sources_and_types(n, sources, rng)
    # each lead's escalation times (µs), from its source's rules
    reminder = np.array([td_us(r.reminder) for r in rules], dtype=np.int64)[source_i]
    stage2 = np.array([td_us(r.stage2) for r in rules], dtype=np.int64)[source_i]
    stage2r = np.array([td_us(r.stage2_resubmission) for r in rules], dtype=np.int64)[source_i]

    def due_from_arrival(idx: np.ndarray) -> np.ndarray:
        result = np.empty(len(idx), dtype=np.int64)
        for i, r in enumerate(rules):
            of_source = source_i[idx] == i
            result[of_source] = add_working_time_us(arrived[idx[of_source]], r.stage1, r)
        return result
    editor, created_by, contact, is_new = _editors_and_contacts(n, sellers, supervisors, rng)

    # people answer and close leads in working hours: later moments move into the next window
    hours = windows_between(s, dt(arrived[0]).astimezone(s.tz).date() - timedelta(days=1),
                    dt(now_us).astimezone(s.tz).date() + timedelta(days=10))

    def snap(moments: np.ndarray) -> np.ndarray:
        return into_working_hours(moments, *hours, rng)

    opened = open_leads(arrived, now_us, s, reminder, stage2, stage2r, due_from_arrival, snap, rng)
    resub, response, due = opened.resub, opened.response, opened.due
    completed, reason_i = _complete(opened.is_open, arrived, resub, response, now_us, reasons,
                                    snap, rng)

    # due, reminder and stage 2 exactly as duetime.due_times gives them
    from_resub = resub >= 0
    need_due = ~from_resub & ~opened.unworked
    due[need_due] = due_from_arrival(np.flatnonzero(need_due))
    due[from_resub] = resub[from_resub]

    return LeadPlan(
        arrived=arrived, source_id=np.array([r[0] for r in sources])[source_i],
        lead_type=lead_type, editor=editor, created_by=created_by, is_open=opened.is_open,
        resub=resub, due=due, reminder_at=due - reminder,
        stage2_at=due + np.where(from_resub, stage2r, stage2), response=response,
        completed=completed, reason_id=np.where(reason_i >= 0, np.array(
            [r[0] for r in reasons])[np.maximum(reason_i, 0)], -1),
        reason_i=reason_i, contact=contact, contact_first_arrival=arrived[is_new],
    )


def _arrivals(n: int, now_us: int, tz, rng: np.random.Generator) -> np.ndarray:
    """Arrival instants (µs, sorted) over the last HISTORY_DAYS, denser recently, by weekday/hour."""
    today = dt(now_us).astimezone(tz).date()
    days = [today - timedelta(days=k) for k in range(HISTORY_DAYS)]
    midnight = np.array([us(datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC)) for d in days])
    w = np.exp(-np.arange(HISTORY_DAYS) / 120.0) * np.array([_WEEKDAY_WEIGHTS[d.weekday()] for d in days])
    day = rng.choice(HISTORY_DAYS, size=n, p=w / w.sum())
    hour = rng.choice(24, size=n, p=weights(_HOUR_WEIGHTS))
    arrived = midnight[day] + hour * HOUR + rng.integers(0, 3600, size=n) * SECOND
    late = arrived > now_us - MINUTE          # today's lead "from the future": earlier today
    span = max(2 * MINUTE, now_us - int(midnight[0]))
    arrived[late] = now_us - rng.integers(MINUTE, span, size=int(late.sum()))
    arrived -= arrived % SECOND
    arrived.sort()
    return arrived


def _sources_and_types(n: int, sources, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's source (index into sources) and lead type (index into TYPE_CODES)."""
    source_w = [_SOURCE_WEIGHTS.get(name) or _CHANNEL_WEIGHTS.get(channel, 4) for _id, name, channel in sources]
    source_i = rng.choice(len(sources), size=n, p=weights(source_w))
    lead_type = np.empty(n, dtype=np.int64)
    for i, (_id, _name, channel) in enumerate(sources):
        mask = source_i == i
        lead_type[mask] = rng.choice(len(TYPE_CODES), size=int(mask.sum()),
                                     p=weights(_TYPE_MIX.get(channel, _DEFAULT_TYPE_MIX)))
    return source_i, lead_type


def _editors_and_contacts(n: int, sellers: np.ndarray, supervisors: np.ndarray,
                          rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Each lead's editor, creator and contact (index), and whether it brought a new contact."""
    seller_w = rng.gamma(4.0, 1.0, size=len(sellers))
    seller_w[:2] = seller_w.max()             # the demo sellers are busy ones
    editor = sellers[rng.choice(len(sellers), size=n, p=seller_w / seller_w.sum())]
    by_supervisor = rng.random(n) < 0.06
    editor[by_supervisor] = supervisors[rng.integers(0, len(supervisors), size=int(by_supervisor.sum()))]
    # contacts: 60 % of the leads bring a new contact, the others are repeat customers,
    # who mostly get the seller they had before
    n_contacts = max(1, int(round(CONTACTS_PER_LEAD * n)))
    is_new = np.zeros(n, dtype=bool)
    is_new[0] = True
    if n_contacts > 1:
        is_new[1 + rng.choice(n - 1, size=n_contacts - 1, replace=False)] = True
    seen = np.cumsum(is_new)
    contact = seen - 1
    repeat = ~is_new
    contact[repeat] = (rng.random(int(repeat.sum())) * (seen[repeat])).astype(np.int64)
    same_seller = repeat & (rng.random(n) < 0.7)
    editor[same_seller] = editor[np.flatnonzero(is_new)[contact[same_seller]]]
    created_by = editor.copy()
    handed_over = rng.random(n) < 0.05        # typed in by a supervisor, then assigned
    created_by[handed_over] = supervisors[rng.integers(0, len(supervisors), size=int(handed_over.sum()))]
    return editor, created_by, contact, is_new


def _complete(is_open: np.ndarray, arrived: np.ndarray, resub: np.ndarray, response: np.ndarray,
              now_us: int, reasons, snap: Moments,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """completed_at and the reason (index into reasons) of the leads not open, -1 for the open.

    A completed lead had a first response, often a note with a resubmission, then the reason;
    those go into response and resub.
    """
    n = len(arrived)
    completed = np.full(n, -1, dtype=np.int64)
    done = np.flatnonzero(~is_open)
    reason_w = [_REASON_WEIGHTS.get(code or "", 3) for _id, code, _label in reasons]
    reason_i = np.full(n, -1, dtype=np.int64)
    reason_i[done] = rng.choice(len(reasons), size=len(done), p=weights(reason_w))
    quick = np.isin(reason_i[done], [i for i, r in enumerate(reasons) if r[1] in ("spam", "duplicate")])
    median = np.where(quick, 2 * HOUR, 4 * DAY).astype(float)
    took = (median * rng.lognormal(0.0, 0.9, size=len(done))).astype(np.int64) + 10 * MINUTE
    first = (40 * MINUTE * rng.lognormal(0.0, 1.1, size=len(done))).astype(np.int64)
    answered = snap(arrived[done] + np.minimum(first, 3 * DAY))
    response[done] = answered - answered % SECOND
    finished = np.minimum(snap(response[done] + took), now_us - SECOND)
    completed[done] = finished - finished % SECOND
    response[done] = np.minimum(response[done], completed[done])
    noted = done[(rng.random(len(done)) < 0.45) & ~quick]
    resub[noted] = ceil_to(snap(response[noted] + rng.integers(2 * HOUR, 5 * DAY, size=len(noted))),
                           15 * MINUTE)
    return completed, reason_i
