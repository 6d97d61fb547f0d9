"""The vectorised twin of the working-time rule (leadcore.rules.vectorised) gives exactly what
leadcore.rules.duetime gives, start by start, on random settings around DST changes."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from leadcore.rules import duetime
from leadcore.rules.vectorised import add_working_time_us

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


_hours = st.one_of(st.none(), st.tuples(st.integers(0, 22), st.sampled_from([0, 15, 30, 45]),
                                        st.integers(1, 23 * 60 + 59)))


def _window(spec) -> tuple[time, time] | None:
    if spec is None:
        return None
    hour, minute, length = spec
    start = hour * 60 + minute
    end = min(start + length, 23 * 60 + 59)
    return (time(hour, minute), time(end // 60, end % 60)) if end > start else None


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(week=st.lists(_hours, min_size=7, max_size=7),
       zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Europe/London"]),
       around=st.sampled_from([date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25),
                               date(2026, 11, 1), date(2026, 6, 15)]),
       holidays=st.sets(st.integers(-10, 20), max_size=8),
       stage1=st.integers(0, 5000),
       offsets=st.lists(st.integers(0, 30 * 86400), min_size=1, max_size=40))
def test_bulk_working_time_equals_duetime(week, zone, around, holidays, stage1, offsets):
    """Around spring and autumn DST changes of three zones, with odd hours (also opening or
    closing inside the skipped or repeated hour), closed days and holidays."""
    hours = tuple(_window(spec) for spec in week)
    if all(h is None for h in hours):
        hours = ((time(8), time(18)),) + hours[1:]
    rules = duetime.DueSettings(ZoneInfo(zone), hours, frozenset(around + timedelta(days=d) for d in holidays),
                                timedelta(minutes=stage1), timedelta(0), timedelta(0), timedelta(0))
    first = datetime.combine(around - timedelta(days=7), time(0), tzinfo=UTC)
    starts = [first + timedelta(seconds=s) for s in offsets]
    try:
        expected = [duetime.add_working_time(start, rules.stage1, rules) for start in starts]
    except ValueError:   # no room within duetime's scan limit (a minute of work a week, say)
        assume(False)
    bulk = add_working_time_us(np.array([(s - EPOCH) // US for s in starts], dtype=np.int64),
                               rules.stage1, rules)
    assert [EPOCH + timedelta(microseconds=got) for got in bulk.tolist()] == expected


def test_bulk_working_time_refuses_a_calendar_without_room():
    rules = duetime.DueSettings(ZoneInfo("Europe/Berlin"), ((time(8), time(9)),) + (None,) * 6,
                                frozenset(date(2026, 1, 5) + timedelta(weeks=w) for w in range(200)),
                                timedelta(hours=2), timedelta(0), timedelta(0), timedelta(0))
    start = np.array([(datetime(2026, 1, 1, tzinfo=UTC) - EPOCH) // US], dtype=np.int64)
    with pytest.raises(ValueError, match="no room"):
        add_working_time_us(start, rules.stage1, rules)


