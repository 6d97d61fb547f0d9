"""Due, reminder and escalation rules (SPEC section 4) and the working-time arithmetic under them."""
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from leadcore.rules import duetime
from leadcore.rules.duetime import (
    DEFAULT_SETTINGS,
    DUE_SOON,
    ON_TIME,
    OVERDUE,
    add_working_time,
    due_times,
    escalation_level,
    is_working_time,
    next_working_start,
    traffic_light,
    working_time_between,
)
from tests.factories import BERLIN

UTC = timezone.utc
US = timedelta(microseconds=1)
D = DEFAULT_SETTINGS
XMAS = replace(D, holidays={date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)})
MAY_DAY = replace(D, holidays={date(2026, 5, 1)})
# DST switches always fall on a Sunday, which is closed by default, so these open it.
SUN_DAY = replace(D, working_hours=D.working_hours[:6] + ((time(8), time(18)),))
SUN_NIGHT = replace(D, working_hours=D.working_hours[:6] + ((time(0), time(6)),))


def b(text: str) -> datetime:
    """Berlin wall-clock time, as a user would type it."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize("arrived, s, due", [
    pytest.param("2026-01-05 10:00", D, b("2026-01-05 12:00"), id="monday-inside-hours"),
    pytest.param("2026-01-05 16:00", D, b("2026-01-05 18:00"), id="uses-up-day-ends-at-closing"),
    pytest.param("2026-01-05 06:30", D, b("2026-01-05 10:00"), id="before-opening"),
    pytest.param("2026-01-05 17:00", D, b("2026-01-06 09:00"), id="split-over-night"),
    pytest.param("2026-01-05 18:00", D, b("2026-01-06 10:00"), id="exactly-at-closing"),
    pytest.param("2026-01-05 19:00", D, b("2026-01-06 10:00"), id="after-closing"),
    pytest.param("2026-01-09 17:30", D, b("2026-01-10 10:30"), id="friday-evening-to-saturday"),
    pytest.param("2026-01-10 12:00", D, b("2026-01-12 09:00"), id="saturday-noon-to-monday"),
    pytest.param("2026-01-11 15:00", D, b("2026-01-12 10:00"), id="sunday"),
    pytest.param("2026-04-30 17:00", MAY_DAY, b("2026-05-02 10:00"), id="holiday-skipped"),
    pytest.param("2026-05-01 11:00", MAY_DAY, b("2026-05-02 11:00"), id="arrives-on-holiday"),
    pytest.param("2026-12-23 17:00", XMAS, b("2026-12-28 09:00"), id="run-of-holidays-and-sunday"),
    pytest.param("2026-03-28 12:00", D, z("2026-03-30 07:00"), id="weekend-into-summer-time"),
    pytest.param("2026-10-24 12:00", D, z("2026-10-26 08:00"), id="weekend-into-winter-time"),
])
def test_due_from_stage1(arrived, s, due):
    t = due_times(b(arrived), None, s)
    assert t.due_at == due
    assert t.due_at.tzinfo is UTC
    assert not t.from_resubmission
    assert t.reminder_at == due - timedelta(minutes=30)
    assert t.stage2_at == due + timedelta(hours=4)


def test_resubmission_wins_and_gets_its_own_stage2():
    # Even a resubmission on a Sunday night is honoured: the seller picked it deliberately.
    resub = b("2026-01-11 22:00")
    t = due_times(b("2026-01-05 10:00"), resub, D)
    assert (t.due_at, t.from_resubmission) == (resub, True)
    assert t.due_at.tzinfo is UTC
    assert t.reminder_at == resub - timedelta(minutes=30)
    assert t.stage2_at == resub + timedelta(hours=24)


def test_custom_stage_lengths_are_used():
    s = replace(D, stage1=timedelta(minutes=15), reminder=timedelta(minutes=5), stage2=timedelta(hours=1))
    t = due_times(b("2026-01-05 17:50"), None, s)
    assert t.due_at == b("2026-01-06 08:05")
    assert t.reminder_at == b("2026-01-06 08:00")
    assert t.stage2_at == b("2026-01-06 09:05")


@pytest.mark.parametrize("start, end, s, expected", [
    pytest.param("2026-01-05 00:00", "2026-01-12 00:00", D, timedelta(hours=54), id="plain-week"),
    pytest.param("2026-12-21 00:00", "2026-12-28 00:00", XMAS, timedelta(hours=30), id="christmas-week"),
    pytest.param("2026-03-29 00:00", "2026-03-30 00:00", SUN_DAY, timedelta(hours=10), id="spring-day-local-hours"),
    pytest.param("2026-10-25 00:00", "2026-10-26 00:00", SUN_DAY, timedelta(hours=10), id="fall-day-local-hours"),
    pytest.param("2026-03-29 00:00", "2026-03-30 00:00", SUN_NIGHT, timedelta(hours=5), id="window-over-spring-jump"),
    pytest.param("2026-10-25 00:00", "2026-10-26 00:00", SUN_NIGHT, timedelta(hours=7), id="window-over-fall-back"),
    pytest.param("2026-01-05 12:00", "2026-01-05 12:00", D, timedelta(0), id="empty"),
    pytest.param("2026-01-06 12:00", "2026-01-05 12:00", D, timedelta(0), id="reversed"),
])
def test_working_time_between(start, end, s, expected):
    assert working_time_between(b(start), b(end), s) == expected


def test_adding_across_dst_jumps_counts_real_time():
    # 01:30 + 1 real hour lands at 03:30 summer time because 02:00-03:00 does not exist.
    assert add_working_time(b("2026-03-29 01:30"), timedelta(hours=1), SUN_NIGHT) == b("2026-03-29 03:30")
    # In autumn 02:00-03:00 happens twice; 01:30 summer time + 2h is 02:30 winter time (01:30 UTC).
    assert add_working_time(b("2026-10-25 01:30"), timedelta(hours=2), SUN_NIGHT) == z("2026-10-25 01:30")


@pytest.mark.parametrize("moment, s, working, nxt", [
    pytest.param("2026-01-05 08:00", D, True, "2026-01-05 08:00", id="opening-is-inside"),
    pytest.param("2026-01-05 18:00", D, False, "2026-01-06 08:00", id="closing-is-outside"),
    pytest.param("2026-01-10 13:30", D, False, "2026-01-12 08:00", id="saturday-afternoon"),
    pytest.param("2026-12-24 10:00", XMAS, False, "2026-12-28 08:00", id="holiday"),
])
def test_is_working_time_and_next_start(moment, s, working, nxt):
    assert is_working_time(b(moment), s) is working
    assert next_working_start(b(moment), s) == b(nxt)
    assert add_working_time(b(moment), timedelta(0), s) == b(nxt)


T = due_times(b("2026-01-05 10:00"), None, D)   # reminder 11:30, due 12:00, stage 2 16:00


@pytest.mark.parametrize("now, light, level", [
    pytest.param(T.reminder_at - US, ON_TIME, 0, id="just-before-reminder"),
    pytest.param(T.reminder_at, DUE_SOON, 0, id="at-reminder"),
    pytest.param(T.due_at - US, DUE_SOON, 0, id="just-before-due"),
    pytest.param(T.due_at, OVERDUE, 1, id="at-due"),
    pytest.param(T.stage2_at - US, OVERDUE, 1, id="just-before-stage2"),
    pytest.param(T.stage2_at, OVERDUE, 2, id="at-stage2"),
    pytest.param(T.due_at.astimezone(BERLIN), OVERDUE, 1, id="same-instant-other-zone"),
])
def test_traffic_light_and_escalation_boundaries(now, light, level):
    assert traffic_light(now, T) == light
    assert escalation_level(now, T) == level


def test_resubmission_stage2_boundary():
    t = due_times(b("2026-01-05 10:00"), b("2026-01-07 09:00"), D)
    assert escalation_level(b("2026-01-08 08:59:59"), t) == 1
    assert escalation_level(b("2026-01-08 09:00"), t) == 2


NAIVE = datetime(2026, 1, 5, 10)


@pytest.mark.parametrize("call", [
    lambda: is_working_time(NAIVE, D),
    lambda: next_working_start(NAIVE, D),
    lambda: add_working_time(NAIVE, timedelta(hours=1), D),
    lambda: working_time_between(NAIVE, b("2026-01-06 10:00"), D),
    lambda: working_time_between(b("2026-01-04 10:00"), NAIVE, D),
    lambda: due_times(NAIVE, None, D),
    lambda: due_times(b("2026-01-05 10:00"), NAIVE, D),
    lambda: traffic_light(NAIVE, T),
    lambda: escalation_level(NAIVE, T),
    lambda: add_working_time(b("2026-01-05 10:00"), timedelta(hours=-1), D),
    lambda: replace(D, working_hours=D.working_hours[:6]),
    lambda: replace(D, working_hours=((time(18), time(8)),) * 7),
    lambda: replace(D, stage1=timedelta(minutes=-1)),
], ids=["is", "next", "add", "between-start", "between-end", "due", "resub", "light", "level",
        "negative-amount", "six-days", "closing-before-opening", "negative-stage"])
def test_bad_input_is_rejected(call):
    with pytest.raises(ValueError):
        call()


def test_no_working_time_at_all_fails_fast_with_a_clear_message():
    closed = replace(D, working_hours=(None,) * 7)
    with pytest.raises(ValueError, match="closed on every weekday"):
        due_times(b("2026-01-05 10:00"), None, closed)
    assert working_time_between(b("2026-01-05 00:00"), b("2026-02-05 00:00"), closed) == timedelta(0)
    all_holidays = replace(D, holidays={date(2026, 1, 1) + timedelta(days=i) for i in range(4 * 366)})
    with pytest.raises(ValueError, match="within"):
        add_working_time(b("2026-01-01 10:00"), timedelta(hours=1), all_holidays)


def test_settings_from_lists_stay_hashable():
    s = replace(D, working_hours=list(D.working_hours), holidays=[date(2026, 5, 1)])
    assert hash(s) and s == MAY_DAY


# --- properties -------------------------------------------------------------------------------
SETTINGS = st.sampled_from([D, XMAS, SUN_NIGHT, replace(D, tz=ZoneInfo("America/New_York"))])
MOMENTS = st.datetimes(datetime(2025, 1, 1), datetime(2028, 1, 1),
                       timezones=st.sampled_from([UTC, BERLIN]))
AMOUNTS = st.timedeltas(timedelta(0), timedelta(hours=120))
POSITIVE = st.timedeltas(US, timedelta(hours=120))
FAST = hsettings(max_examples=150, deadline=None)


@FAST
@given(SETTINGS, MOMENTS, AMOUNTS)
def test_result_is_after_start_and_inside_or_closing_a_window(s, start, amount):
    r = add_working_time(start, amount, s)
    assert r >= start and r.tzinfo is UTC
    assert is_working_time(r, s) or is_working_time(r - US, s)


@FAST
@given(SETTINGS, MOMENTS, AMOUNTS)
def test_between_inverts_add(s, start, amount):
    assert working_time_between(start, add_working_time(start, amount, s), s) == amount


@FAST
@given(SETTINGS, MOMENTS, MOMENTS, AMOUNTS)
def test_later_start_is_never_due_earlier(s, a, b_, amount):
    early, late = sorted([a, b_])
    assert add_working_time(early, amount, s) <= add_working_time(late, amount, s)


# The second step must be positive: a first step ending exactly at closing time would otherwise be
# moved to the next opening by the zero-amount rule, which is intended (zero = next working start).
@FAST
@given(SETTINGS, MOMENTS, AMOUNTS, POSITIVE)
def test_adding_in_two_steps_equals_adding_once(s, start, a, b_):
    assert add_working_time(add_working_time(start, a, s), b_, s) == add_working_time(start, a + b_, s)


@FAST
@given(SETTINGS, MOMENTS)
def test_next_working_start_skips_only_idle_time(s, moment):
    nxt = next_working_start(moment, s)
    assert nxt >= moment and is_working_time(nxt, s)
    assert working_time_between(moment, nxt, s) == timedelta(0)


def test_working_window_is_the_local_opening_hours_in_utc():
    from leadcore.rules import duetime  # appended test: the module's imports stay as they are

    # Friday 2026-11-27 in Berlin (UTC+1): 08:00-18:00 local.
    assert duetime.working_window(date(2026, 11, 27), D) == (
        datetime(2026, 11, 27, 7, tzinfo=UTC), datetime(2026, 11, 27, 17, tzinfo=UTC))
    # Saturday: 09:00-13:00 local; a summer Monday: UTC+2.
    assert duetime.working_window(date(2026, 11, 28), D) == (
        datetime(2026, 11, 28, 8, tzinfo=UTC), datetime(2026, 11, 28, 12, tzinfo=UTC))
    assert duetime.working_window(date(2026, 6, 1), D) == (
        datetime(2026, 6, 1, 6, tzinfo=UTC), datetime(2026, 6, 1, 16, tzinfo=UTC))
    assert duetime.working_window(date(2026, 11, 29), D) is None         # Sunday: closed
    assert duetime.working_window(date(2026, 12, 24), XMAS) is None      # a holiday
    assert duetime.working_window(date(2026, 12, 24), D) is not None


def test_opening_hours_inside_the_skipped_spring_hour_open_when_the_clock_jumps_past_them():
    """On 29.03.2026 Berlin's clocks jump from 02:00 to 03:00: a 02:30 opening is reached at
    03:00 local (01:00 UTC), not an hour later; a 02:30 closing ends the window at the jump."""
    berlin = ZoneInfo("Europe/Berlin")
    early = duetime.DueSettings(berlin, ((time(2, 30), time(6)),) * 7, frozenset(), timedelta(hours=1),
                                timedelta(0), timedelta(0), timedelta(0))
    assert duetime.working_window(date(2026, 3, 29), early) == (
        datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc), datetime(2026, 3, 29, 4, 0, tzinfo=timezone.utc))
    night = duetime.DueSettings(berlin, ((time(1), time(2, 30)),) * 7, frozenset(), timedelta(hours=1),
                                timedelta(0), timedelta(0), timedelta(0))
    assert duetime.working_window(date(2026, 3, 29), night) == (
        datetime(2026, 3, 29, 0, 0, tzinfo=timezone.utc), datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc))
    assert duetime.add_working_time(datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc), timedelta(hours=1),
                                    night) == datetime(2026, 3, 29, 23, 30, tzinfo=timezone.utc)   # 30 min that night, 30 the next (CEST)
