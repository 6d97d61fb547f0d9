"""Working-time arithmetic and the due/reminder/escalation rules of a lead (pure: the clock is passed in)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "ON_TIME", "DUE_SOON", "OVERDUE", "DueSettings", "DEFAULT_SETTINGS", "DueTimes",
    "is_working_time", "next_working_start", "add_working_time", "working_time_between",
    "working_window", "due_times", "traffic_light", "escalation_level",
]

ON_TIME, DUE_SOON, OVERDUE = "on time", "due soon", "overdue"   # traffic-light words (shown in the UI as is)

UTC = timezone.utc
_ZERO = timedelta(0)
# A bad holiday list (say, every date of a year) must fail loudly instead of spinning forever.
MAX_SCAN_DAYS = 3 * 366
# Per-settings window caches only hold dates actually asked for; the cap keeps a long-running
# app from growing them without limit.
_WINDOW_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class DueSettings:
    tz: ZoneInfo                                   # dealership time zone, default Europe/Berlin
    working_hours: tuple[tuple[time, time] | None, ...]   # 7 entries, Monday=0 .. Sunday=6; None = closed day
    holidays: frozenset[date]                      # local dates without working time
    stage1: timedelta                              # longest reaction time for a new lead, in WORKING time (default 2h)
    reminder: timedelta                            # seller reminder before due, calendar (default 30 min)
    stage2: timedelta                              # from due to supervisor, calendar (default 4h)
    stage2_resubmission: timedelta                 # same for leads whose due comes from a resubmission (default 24h)

    def __post_init__(self) -> None:
        # Settings usually come from a form or the database as lists/sets; coerce them so the
        # object stays hashable (the window cache is keyed on it).
        hours = tuple(None if w is None else (w[0], w[1]) for w in self.working_hours)
        if len(hours) != 7:
            raise ValueError(f"working_hours needs 7 entries (Monday..Sunday), got {len(hours)}")
        for day, w in enumerate(hours):
            if w is None:
                continue
            start, end = w
            if not isinstance(start, time) or not isinstance(end, time):
                raise ValueError(f"working_hours[{day}] must be a pair of datetime.time, got {w!r}")
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError(f"working_hours[{day}] must use naive local times (the zone is tz)")
            if not start < end:
                raise ValueError(f"working_hours[{day}]: opening {start} must be before closing {end}")
        object.__setattr__(self, "working_hours", hours)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        for name in ("stage1", "reminder", "stage2", "stage2_resubmission"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value < _ZERO:
                raise ValueError(f"{name} must be a non-negative timedelta, got {value!r}")


DEFAULT_SETTINGS = DueSettings(
    tz=ZoneInfo("Europe/Berlin"),
    working_hours=((time(8), time(18)),) * 5 + ((time(9), time(13)), None),
    holidays=frozenset(),
    stage1=timedelta(hours=2),
    reminder=timedelta(minutes=30),
    stage2=timedelta(hours=4),
    stage2_resubmission=timedelta(hours=24),
)


@dataclass(frozen=True)
class DueTimes:
    due_at: datetime        # aware, UTC
    reminder_at: datetime   # due_at - reminder
    stage2_at: datetime     # due_at + stage2 (or stage2_resubmission when from_resubmission)
    from_resubmission: bool


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the dealership's clock shows `at` on `day`.

    A wall time skipped by the spring-forward jump (02:30 when 02:00 jumps to 03:00) is reached
    the moment the clock jumps past it, so it maps to the jump itself; Python alone would place
    it an hour late. A repeated autumn wall time means its first occurrence.
    """
    moment = datetime.combine(day, at, tzinfo=tz)
    instant = moment.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == moment.replace(tzinfo=None):
        return instant
    # Skipped: the jump lies between the readings with the offset after it and before it.
    lo = int(datetime.combine(day, at, tzinfo=tz).replace(fold=1).astimezone(UTC).timestamp())
    hi = int(instant.timestamp())
    offset_before = datetime.fromtimestamp(lo, UTC).astimezone(tz).utcoffset()
    while lo < hi:   # the first second whose offset is the later one (jumps are on whole seconds)
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset() == offset_before:
            lo = mid + 1
        else:
            hi = mid
    return datetime.fromtimestamp(lo, UTC)


class _Calendar:
    """UTC working window of each local date for one settings object (memoised per date ordinal)."""

    __slots__ = ("tz", "hours", "holidays", "windows", "has_open_day")

    def __init__(self, s: DueSettings) -> None:
        self.tz = s.tz
        self.hours = s.working_hours
        self.holidays = s.holidays
        self.windows: dict[int, tuple[datetime, datetime] | None] = {}
        self.has_open_day = any(w is not None for w in s.working_hours)

    def window(self, ordinal: int) -> tuple[datetime, datetime] | None:
        try:
            return self.windows[ordinal]
        except KeyError:
            pass
        d = date.fromordinal(ordinal)
        hours = self.hours[d.weekday()]
        result = None
        if hours is not None and d not in self.holidays:
            # Built in local time and converted, so a DST day keeps its local opening hours
            # (08:00-18:00 is still 10 real hours; a window across the jump is shorter/longer).
            start = local_instant(d, hours[0], self.tz)
            end = local_instant(d, hours[1], self.tz)
            if start < end:   # a window lying entirely inside the skipped spring hour is empty
                result = (start, end)
        if len(self.windows) >= _WINDOW_CACHE_LIMIT:
            self.windows.clear()
        self.windows[ordinal] = result
        return result

    def require_open(self) -> None:
        if not self.has_open_day:
            raise ValueError("working hours are closed on every weekday: there is no working time to count")


@lru_cache(maxsize=64)
def _calendar(s: DueSettings) -> _Calendar:
    return _Calendar(s)


def working_window(day: date, s: DueSettings) -> tuple[datetime, datetime] | None:
    """UTC opening and closing of local date `day`'s working window; None when the dealership is
    closed that day (closed weekday, holiday, or a window lost to the DST jump)."""
    return _calendar(s).window(day.toordinal())


def _aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment


def _local_ordinal(moment: datetime, s: DueSettings) -> int:
    return moment.astimezone(s.tz).date().toordinal()


def is_working_time(moment: datetime, s: DueSettings) -> bool:
    """True if moment lies in a working window [opening, closing) of its local date."""
    _aware(moment, "moment")
    w = _calendar(s).window(_local_ordinal(moment, s))
    return w is not None and w[0] <= moment < w[1]


def next_working_start(moment: datetime, s: DueSettings) -> datetime:
    """moment itself (in UTC) if inside working time, else the start of the next working period."""
    return add_working_time(moment, _ZERO, s)


def add_working_time(start: datetime, amount: timedelta, s: DueSettings) -> datetime:
    """The moment (UTC) at which `amount` of working time has passed since `start`.

    A result that exactly uses up a window is that window's closing time (not the next
    opening); amount 0 gives next_working_start(start).
    """
    _aware(start, "start")
    if amount < _ZERO:
        raise ValueError(f"amount must not be negative, got {amount}")
    cal = _calendar(s)
    cal.require_open()
    t = start.astimezone(UTC)
    ordinal = _local_ordinal(start, s)
    remaining = amount
    for _ in range(MAX_SCAN_DAYS):
        w = cal.window(ordinal)
        if w is not None:
            opening, closing = w
            if t < closing:
                if t < opening:
                    t = opening
                if not remaining:
                    return t
                available = closing - t
                if remaining <= available:
                    return t + remaining
                remaining -= available
                t = closing
        ordinal += 1
    raise ValueError(
        f"no room for {amount} of working time within {MAX_SCAN_DAYS} days after {start.isoformat()} "
        "(are the holidays closing everything?)"
    )


def working_time_between(start: datetime, end: datetime, s: DueSettings) -> timedelta:
    """Working time inside [start, end); zero if end <= start."""
    _aware(start, "start")
    _aware(end, "end")
    if end <= start:
        return _ZERO
    cal = _calendar(s)
    total = _ZERO
    # A window never leaves its local date, so the local dates of start and end bound the scan.
    for ordinal in range(_local_ordinal(start, s), _local_ordinal(end, s) + 1):
        w = cal.window(ordinal)
        if w is not None:
            lo = w[0] if w[0] > start else start
            hi = w[1] if w[1] < end else end
            if lo < hi:
                total += hi - lo
    return total


def due_times(arrived_at: datetime, resubmission_at: datetime | None, s: DueSettings) -> DueTimes:
    """Due, reminder and stage-2 moments of a lead (SPEC section 4)."""
    _aware(arrived_at, "arrived_at")
    if resubmission_at is not None:
        # The seller chose this moment on purpose; it is honoured as is, even outside working hours.
        due = _aware(resubmission_at, "resubmission_at").astimezone(UTC)
        stage2 = s.stage2_resubmission
    else:
        due = add_working_time(arrived_at, s.stage1, s)
        stage2 = s.stage2
    return DueTimes(
        due_at=due,
        reminder_at=due - s.reminder,
        stage2_at=due + stage2,
        from_resubmission=resubmission_at is not None,
    )


def traffic_light(now: datetime, t: DueTimes) -> str:
    _aware(now, "now")
    if now < t.reminder_at:
        return ON_TIME
    if now < t.due_at:
        return DUE_SOON
    return OVERDUE


def escalation_level(now: datetime, t: DueTimes) -> int:
    _aware(now, "now")
    if now >= t.stage2_at:
        return 2
    if now >= t.due_at:
        return 1
    return 0
