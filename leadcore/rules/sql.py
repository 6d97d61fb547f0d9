"""duetime's rules in SQL, for lists and aggregates over many leads: the traffic light and the
escalation level of stored due times, and working time counted against a per-UTC-day table of
duetime's working windows (a CTE). Tests keep each twin equal to duetime at the boundaries."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from leadcore.rules import duetime
from leadcore.rules.vectorised import epoch_us

__all__ = ["traffic_light_sql", "traffic_light_filter_sql", "escalation_level_sql",
           "DAY_US", "calendar_cte", "worked_until", "local_date"]

def _light_conditions(alias: str) -> dict[str, str]:
    """When an open lead shows each traffic light: the rule of duetime.traffic_light in SQL."""
    return {
        duetime.OVERDUE: f"$now >= {alias}.due_at",
        duetime.DUE_SOON: f"$now >= {alias}.reminder_at AND $now < {alias}.due_at",
        duetime.ON_TIME: f"$now < {alias}.reminder_at",
    }


def traffic_light_sql(alias: str = "l") -> str:
    """SQL twin of duetime.traffic_light; NULL for completed leads. Binds `now` once."""
    cases = " ".join(f"WHEN {cond} THEN '{light}'" for light, cond in _light_conditions(alias).items())
    return f"CASE WHEN {alias}.status <> 'open' THEN NULL {cases} END"


def traffic_light_filter_sql(lights: tuple[str, ...], alias: str = "l") -> str:
    """Open leads showing one of `lights`, as plain comparisons (10x faster than the CASE)."""
    conditions = _light_conditions(alias)
    chosen = " OR ".join(f"({conditions[light]})" for light in lights if light in conditions)
    return f"({alias}.status = 'open' AND ({chosen or 'FALSE'}))"


def escalation_level_sql(alias: str = "l") -> str:
    """SQL twin of duetime.escalation_level; 0 for completed leads."""
    return (f"CASE WHEN {alias}.status <> 'open' THEN 0"
            f" WHEN $now >= {alias}.stage2_at THEN 2"
            f" WHEN $now >= {alias}.due_at THEN 1 ELSE 0 END")



# W(t) = working time from the calendar's first day up to instant t. Then the working time
# between a and b is W(b) - W(a) (zero when b <= a), exactly duetime.working_time_between.
# Per UTC day the table holds W at its midnight (`cum`) and the at most two pieces of working
# windows inside it (a local date's window can cross a UTC midnight, so one UTC day can hold the
# end of one window and the start of the next). A row finds its day with an equi-join on
# epoch_us // day, which DuckDB does as a hash join: much faster than an ASOF join at 10M rows.
# The same table carries the local UTC offset (and the moment it changes on a DST day), so local
# dates are computed without per-row time-zone conversion.

UTC = timezone.utc
DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _offset_us(tz, us: int) -> int:
    moment = _EPOCH + timedelta(microseconds=us)
    return moment.astimezone(tz).utcoffset() // timedelta(microseconds=1)


def _switch_us(tz, start: int, end: int) -> int:
    """The first microsecond in [start, end) whose offset differs from start's (transitions are
    on whole seconds), or end when the offset stays."""
    first = _offset_us(tz, start)
    if _offset_us(tz, end - 1) == first:
        return end
    lo, hi = start // 1_000_000, (end - 1) // 1_000_000          # seconds
    while lo < hi:
        mid = (lo + hi) // 2
        if _offset_us(tz, mid * 1_000_000) == first:
            lo = mid + 1
        else:
            hi = mid
    return lo * 1_000_000


@lru_cache(maxsize=32)
def _table(s: duetime.DueSettings, first_day: int, last_day: int) -> dict[str, list[int]]:
    """Columns of the per-UTC-day table for UTC day numbers first_day..last_day."""
    days = range(first_day, last_day + 1)
    pieces: dict[int, list[tuple[int, int]]] = {d: [] for d in days}
    first_local = date(1970, 1, 1) + timedelta(days=first_day - 1)
    for offset in range(len(days) + 3):
        # duetime's own window per local date: the same rule (hours, holidays, DST) as the due times.
        window = duetime.working_window(first_local + timedelta(days=offset), s)
        if window is None:
            continue
        start, end = epoch_us(window[0]), epoch_us(window[1])
        while start < end:                                  # split at UTC midnights
            day = start // DAY_US
            piece_end = min(end, (day + 1) * DAY_US)
            if day in pieces:
                pieces[day].append((start, piece_end - start))
            start = piece_end
    table: dict[str, list[int]] = {k: [] for k in
                                   ("day", "cum", "s1", "l1", "s2", "l2", "off1", "switch", "off2")}
    cum = 0
    for day in days:
        found = sorted(pieces[day]) + [(0, 0), (0, 0)]
        if len(found) > 4:
            raise ValueError("more than two working windows in one UTC day")
        midnight, next_midnight = day * DAY_US, (day + 1) * DAY_US
        switch = _switch_us(s.tz, midnight, next_midnight)
        row = {"day": day, "cum": cum, "s1": found[0][0], "l1": found[0][1], "s2": found[1][0],
               "l2": found[1][1], "off1": _offset_us(s.tz, midnight), "switch": switch,
               "off2": _offset_us(s.tz, next_midnight - 1)}
        for key, value in row.items():
            table[key].append(value)
        cum += found[0][1] + found[1][1]
    return table


def calendar_cte(rules: duetime.DueSettings, first: datetime, last: datetime) -> tuple[str, dict]:
    """`cal` CTE covering the UTC days of [first, last] (plus one either side), and its
    parameters. Join a row to its day with `cal c ON c.day = epoch_us(t) // DAY_US`."""
    table = _table(rules, epoch_us(first) // DAY_US - 1, epoch_us(last) // DAY_US + 1)
    columns = ", ".join(f"unnest($cal_{k}::BIGINT[]) AS {k}" for k in table)
    return f"cal AS (SELECT {columns})", {f"cal_{k}": v for k, v in table.items()}


def worked_until(us: str, c: str) -> str:
    """SQL for W(t) of the instant `us` (epoch microseconds) on its calendar row `c`."""
    return (f"({c}.cum + least(greatest({us} - {c}.s1, 0), {c}.l1)"
            f" + least(greatest({us} - {c}.s2, 0), {c}.l2))")


def local_date(us: str, c: str) -> str:
    """SQL for the dealership's local date of the instant `us` on its calendar row `c`."""
    return (f"(DATE '1970-01-01' + CAST(({us} + CASE WHEN {us} < {c}.switch THEN {c}.off1"
            f" ELSE {c}.off2 END) // {DAY_US} AS INTEGER))")
