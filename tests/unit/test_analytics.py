"""Dashboard read models against a small hand-made dataset with known answers: due-state
boundaries, local days in several time zones, working time to first response (checked against
duetime.working_time_between), completions and win rate, workload, visibility and filters, and
the dashboard's open / due-soon / overdue counts equal to the Leads list's."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from leadcore.admin import settings, users
from leadcore.analytics import dashboard as analytics
from leadcore.analytics.dashboard import DashboardFilter
from leadcore.errors import PermissionDenied
from leadcore.leads import listing as lead_list
from leadcore.leads.listing import LeadFilter
from leadcore.rules import duetime
from leadcore.rules import sql as working_calendar
from tests.factories import NOW

UTC = timezone.utc
US = timedelta(microseconds=1)
TODAY = NOW.date()                              # Friday 27.11.2026
MONTH = DashboardFilter(date(2026, 10, 29), TODAY)


def month(**filters) -> DashboardFilter:
    """The last 30 days with more filters."""
    return DashboardFilter(MONTH.period_from, TODAY, **filters)


def _reason(cur, code: str) -> int:
    return cur.execute("SELECT id FROM completion_reasons WHERE code = ?", [code]).fetchall()[0][0]


def _lead(cur, editor, source_id: int, arrived: datetime, *, contact_id: int, resubmission=None,
          responded=None, completed=None, reason: str | None = None, lead_type: str = "new_car") -> int:
    """A lead row as the services would leave it, with due times from duetime."""
    t = duetime.due_times(arrived, resubmission, settings.due_settings(cur))
    return cur.execute(
        "INSERT INTO leads (contact_id, source_id, lead_type, subject, editor_id, created_by, status,"
        " arrived_at, resubmission_at, due_at, reminder_at, stage2_at, first_response_at,"
        " last_activity_at, completed_at, completion_reason_id)"
        " VALUES (?, ?, ?, 'test', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [contact_id, source_id, lead_type, editor.id, editor.id, "completed" if completed else "open",
         arrived, resubmission, t.due_at, t.reminder_at, t.stage2_at, responded,
         completed or responded or arrived, completed, _reason(cur, reason) if reason else None],
    ).fetchall()[0][0]


@pytest.fixture
def lead(cur, contact):
    return lambda editor, source_id, arrived, **kw: _lead(cur, editor, source_id, arrived,
                                                          contact_id=contact.id, **kw)


def _count(frame: pd.DataFrame, **where) -> int:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    return int(frame.loc[mask, "leads"].sum())


# --- traffic light and escalation at the boundaries ------------------------------------------

@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
def test_open_figures_follow_the_due_state_at_every_boundary(cur, manager, source_ids, lead, berlin, zone):
    lead(manager, source_ids["Phone"], berlin("2026-11-27 08:00"))   # due 10:00, reminder 09:30, stage 2 14:00
    edges = [("2026-11-27 09:29:59.999999", duetime.ON_TIME, 0),
             ("2026-11-27 09:30", duetime.DUE_SOON, 0),
             ("2026-11-27 09:59:59.999999", duetime.DUE_SOON, 0),
             ("2026-11-27 10:00", duetime.OVERDUE, 1),
             ("2026-11-27 13:59:59.999999", duetime.OVERDUE, 1),
             ("2026-11-27 14:00", duetime.OVERDUE, 2)]
    for text, light, level in edges:
        moment = berlin(text).astimezone(ZoneInfo(zone))
        data = analytics.dashboard(cur, manager, moment, MONTH)
        fig = data.figures
        assert (fig.open, fig.due_soon, fig.overdue, fig.escalated_supervisor) == (
            1, int(light == duetime.DUE_SOON), int(light == duetime.OVERDUE), int(level == 2)), text
        assert data.open_by_light[["source", "traffic_light", "leads"]].values.tolist() == [["Phone", light, 1]]
        expected_escalated = [["Phone", level, 1]] if level else []
        assert data.escalated[["source", "escalation_level", "leads"]].values.tolist() == expected_escalated


def test_completed_leads_are_not_open(cur, manager, source_ids, lead, berlin, now):
    lead(manager, source_ids["Phone"], berlin("2026-11-20 08:00"), responded=berlin("2026-11-20 09:00"),
         completed=berlin("2026-11-20 09:00"), reason="sold")
    fig = analytics.dashboard(cur, manager, now, MONTH).figures
    assert (fig.open, fig.overdue, fig.escalated_supervisor) == (0, 0, 0)


# --- the dashboard counts equal the lead list's -------------------------------------------------

@pytest.fixture
def desk(cur, now, seller, seller2, supervisor, manager, source_ids, lead, berlin):
    """A dozen leads: two teams, two locations, several sources, types and due states."""
    outsider = users.add_user(cur, now, "olga", "Olga Ost", "olga@autohaus.example", "seller",
                              "correct horse battery", location="Potsdam")
    made = []
    for editor, source, lead_type, arrived, resub in [
        (seller, "mobile.de", "new_car", "2026-11-27 09:00", None),          # due 11:00: on time
        (seller, "mobile.de", "used_car", "2026-11-27 08:10", None),         # due 10:10: due soon
        (seller, "AutoScout24", "new_car", "2026-11-26 09:00", None),        # due Thu 11:00: level 2
        (seller, "Phone", "service", "2026-11-25 09:00", None),              # due Wed 11:00: level 2
        (seller2, "Phone", "service", "2026-11-27 09:50", None),             # due 11:50: on time
        (seller2, "Website form", "new_car", "2026-11-20 09:00", "2026-11-27 10:10"),   # due soon
        (seller2, "mobile.de", "trade_in", "2026-11-24 12:00", "2026-11-26 16:00"),     # level 1 (24 h)
        (outsider, "mobile.de", "new_car", "2026-11-26 17:00", None),        # due Fri 09:00: level 1
        (outsider, "Walk-in", "financing", "2026-11-27 09:45", None),        # due 11:45: on time
        (outsider, "E-mail", "new_car", "2026-11-19 09:00", "2026-11-27 09:00"),        # level 1
    ]:
        made.append(lead(editor, source_ids[source], berlin(arrived), lead_type=lead_type,
                         resubmission=berlin(resub) if resub else None))
    lead(seller, source_ids["mobile.de"], berlin("2026-11-23 09:00"), responded=berlin("2026-11-23 10:00"),
         completed=berlin("2026-11-24 10:00"), reason="sold")
    return made


def _list_counts(cur, user, now, f: DashboardFilter) -> tuple[int, int, int]:
    editors = ()
    if f.location:
        rows = cur.execute("SELECT id FROM users WHERE location = ?", [f.location]).fetchall()
        editors = tuple(r[0] for r in rows)
    sources = f.source_ids
    if f.picked_source:
        rows = cur.execute("SELECT id FROM sources WHERE name = ?", [f.picked_source]).fetchall()
        sources = tuple(r[0] for r in rows)
    base = LeadFilter(statuses=("open",), source_ids=sources, lead_types=f.lead_types, editor_ids=editors)
    counts = [lead_list.count_leads(cur, user, now, base)]
    for light in (duetime.DUE_SOON, duetime.OVERDUE):
        counts.append(lead_list.count_leads(cur, user, now, LeadFilter(
            statuses=("open",), source_ids=sources, lead_types=f.lead_types, editor_ids=editors,
            traffic_lights=(light,))))
    return tuple(counts)


@pytest.mark.parametrize("who", ["manager", "supervisor", "analyst"])
@pytest.mark.parametrize("variant", ["all", "location", "sources", "types", "picked", "everything"])
def test_dashboard_counts_equal_the_lead_lists(cur, now, desk, source_ids, who, variant, request):
    user = request.getfixturevalue(who)
    f = {
        "all": MONTH,
        "location": month(location="Berlin"),
        "sources": month(source_ids=(source_ids["mobile.de"], source_ids["Phone"])),
        "types": month(lead_types=("new_car", "service")),
        "picked": month(picked_source="mobile.de"),
        "everything": month(location="Berlin",
                       source_ids=(source_ids["mobile.de"],), lead_types=("new_car", "used_car"),
                       picked_source="mobile.de"),
    }[variant]
    fig = analytics.dashboard(cur, user, now, f).figures
    assert (fig.open, fig.due_soon, fig.overdue) == _list_counts(cur, user, now, f)
    assert fig.open > 0


def test_the_desk_has_the_states_it_claims(cur, now, manager, desk):
    fig = analytics.dashboard(cur, manager, now, MONTH).figures
    assert (fig.open, fig.due_soon, fig.overdue, fig.escalated_supervisor) == (10, 2, 5, 2)


def test_supervisors_see_their_team_only(cur, now, supervisor, manager, desk):
    team = analytics.dashboard(cur, supervisor, now, MONTH).workload
    everyone = analytics.dashboard(cur, manager, now, MONTH).workload
    assert sorted(team["editor"]) == ["Anna Becker", "Ben Schulz"]
    assert sorted(everyone["editor"]) == ["Anna Becker", "Ben Schulz", "Olga Ost"]


def test_workload_counts_open_and_overdue_per_editor_most_overdue_first(cur, now, manager, desk):
    rows = analytics.dashboard(cur, manager, now, MONTH).workload.values.tolist()
    assert rows == [["Anna Becker", 4, 2], ["Olga Ost", 3, 2], ["Ben Schulz", 3, 1]]


def test_location_and_lead_type_filters(cur, now, manager, desk):
    potsdam = analytics.dashboard(cur, manager, now, month(location="Potsdam")).figures
    assert potsdam.open == 3
    services = analytics.dashboard(cur, manager, now,
                                              month(lead_types=("service",))).open_by_light
    assert services.values.tolist() == [["Phone", duetime.OVERDUE, 1], ["Phone", duetime.ON_TIME, 1]]


def test_a_picked_source_filters_figures_and_workload_and_only_highlights_source_charts(cur, now, manager, desk):
    picked = month(picked_source="Phone")
    data = analytics.dashboard(cur, manager, now, picked)
    assert data.figures.open == 2
    assert data.workload.values.tolist() == [["Anna Becker", 1, 1], ["Ben Schulz", 1, 0]]
    assert set(data.open_by_light["source"]) == {"mobile.de", "AutoScout24", "Phone", "Website form", "Walk-in",
                                                 "E-mail"}


# --- new leads: local days, time zones, weeks ---------------------------------------------------

def test_new_leads_count_on_the_local_day_of_arrival(cur, now, manager, source_ids, lead):
    def utc(text):
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    lead(manager, source_ids["Phone"], utc("2026-11-26 22:59:59.999999"))     # 23:59:59.999999 Thu in Berlin
    lead(manager, source_ids["Phone"], utc("2026-11-26 23:00:00"))            # 00:00 Fri in Berlin
    lead(manager, source_ids["E-mail"], utc("2026-11-27 08:00:00"))
    today = analytics.dashboard(cur, manager, now, DashboardFilter(TODAY, TODAY)).figures
    thursday = analytics.dashboard(cur, manager, now, DashboardFilter(date(2026, 11, 26), date(2026, 11, 26))).figures
    assert (today.new_in_period, thursday.new_in_period) == (2, 1)
    rows = analytics.dashboard(cur, manager, now, DashboardFilter(date(2026, 11, 26), TODAY)).new_leads
    assert [(r.period_start.date(), r.source, r.leads) for r in rows.itertuples()] == [
        (date(2026, 11, 26), "Phone", 1), (date(2026, 11, 27), "Phone", 1), (date(2026, 11, 27), "E-mail", 1)]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"])
def test_new_leads_per_local_day_in_any_time_zone_and_across_dst(cur, now, manager, source_ids, lead, zone):
    settings.put(cur, "timezone", zone)
    tz = ZoneInfo(zone)
    rng = random.Random(zone)
    # both DST changes of 2026 in Europe and America lie inside these windows
    starts = [datetime(2026, 3, 7, tzinfo=UTC), datetime(2026, 3, 27, tzinfo=UTC),
              datetime(2026, 10, 23, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC)]
    arrivals = [start + timedelta(seconds=rng.randrange(4 * 86400)) for start in starts for _ in range(40)]
    # every local midnight around the DST days, and the microsecond before it
    for first in (date(2026, 3, 7), date(2026, 3, 27), date(2026, 10, 23), date(2026, 10, 31)):
        for n in range(5):
            midnight = datetime.combine(first + timedelta(days=n), time(0), tzinfo=tz).astimezone(UTC)
            arrivals += [midnight - US, midnight]
    for moment in arrivals:
        lead(manager, source_ids["Phone"], moment)
    f = DashboardFilter(date(2026, 3, 1), date(2026, 3, 1) + timedelta(days=59))   # 60 days: per day
    spring = analytics.dashboard(cur, manager, now, f).new_leads
    f_autumn = DashboardFilter(date(2026, 10, 20), date(2026, 11, 10))
    autumn = analytics.dashboard(cur, manager, now, f_autumn).new_leads
    got = {r.period_start.date(): r.leads for r in pd.concat([spring, autumn]).itertuples()}
    expected: dict[date, int] = {}
    for moment in arrivals:
        day = moment.astimezone(tz).date()
        if f.period_from <= day <= f.period_to or f_autumn.period_from <= day <= f_autumn.period_to:
            expected[day] = expected.get(day, 0) + 1
    assert got == expected


def test_periods_over_60_days_count_new_leads_per_week(cur, now, manager, source_ids, lead, berlin):
    lead(manager, source_ids["Phone"], berlin("2026-11-23 08:00"))   # Monday
    lead(manager, source_ids["Phone"], berlin("2026-11-27 08:00"))   # Friday, same week
    lead(manager, source_ids["Phone"], berlin("2026-11-22 23:30"))   # Sunday before
    quarter = DashboardFilter(date(2026, 8, 1), TODAY)
    assert analytics.bucket_of(quarter) == "week" and analytics.bucket_of(MONTH) == "day"
    rows = analytics.dashboard(cur, manager, now, quarter).new_leads
    assert [(r.period_start.date(), r.leads) for r in rows.itertuples()] == [
        (date(2026, 11, 16), 1), (date(2026, 11, 23), 2)]


def test_preset_periods():
    friday = date(2026, 11, 27)
    assert analytics.preset_period("today", friday) == (friday, friday)
    assert analytics.preset_period("7 days", friday) == (date(2026, 11, 21), friday)
    assert analytics.preset_period("30 days", friday) == (date(2026, 10, 29), friday)
    assert analytics.preset_period("this quarter", friday) == (date(2026, 10, 1), friday)
    assert analytics.preset_period("this quarter", date(2026, 3, 31)) == (date(2026, 1, 1), date(2026, 3, 31))
    with pytest.raises(ValueError):
        analytics.preset_period("custom", friday)


# --- working time to first response ---------------------------------------------------------------

def _sql_working_times(cur, pairs: list[tuple[datetime, datetime]]) -> list[timedelta]:
    """working_calendar's calendar join, row by row, for (start, end) pairs."""
    first = min(min(a, b) for a, b in pairs)
    last = max(max(a, b) for a, b in pairs)
    cal, params = working_calendar.calendar_cte(settings.due_settings(cur), first, last)
    worked = (f"greatest({working_calendar.worked_until('epoch_us(p.b)', 'cb')}"
              f" - {working_calendar.worked_until('epoch_us(p.a)', 'ca')}, 0)")
    rows = cur.execute(f"""
        WITH {cal}, p AS (SELECT unnest($i::BIGINT[]) AS i, unnest($a::TIMESTAMPTZ[]) AS a,
                                 unnest($b::TIMESTAMPTZ[]) AS b)
        SELECT p.i, {worked} FROM p
        JOIN cal ca ON ca.day = epoch_us(p.a) // {working_calendar.DAY_US}
        JOIN cal cb ON cb.day = epoch_us(p.b) // {working_calendar.DAY_US}
        ORDER BY p.i""", dict(params, i=list(range(len(pairs))), a=[a for a, _ in pairs],
                              b=[b for _, b in pairs])).fetchall()
    assert [r[0] for r in rows] == list(range(len(pairs)))
    return [timedelta(microseconds=r[1]) for r in rows]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"])
def test_working_time_in_sql_equals_duetime(cur, zone):
    settings.put(cur, "timezone", zone)
    cur.execute("INSERT INTO holidays VALUES ('2026-12-24', 'Christmas Eve'), ('2026-10-26', 'Closed')")
    s = settings.due_settings(cur)
    tz = ZoneInfo(zone)

    def local(text):
        return datetime.fromisoformat(text).replace(tzinfo=tz)

    pairs = [
        (local("2026-11-27 07:00"), local("2026-11-27 09:00")),        # before opening
        (local("2026-11-27 08:00"), local("2026-11-27 18:00")),        # a whole day, exactly
        (local("2026-11-27 17:00"), local("2026-11-30 09:00")),        # Friday -> Saturday -> Monday
        (local("2026-11-28 12:59:59.999999"), local("2026-11-28 13:00:00.000001")),
        (local("2026-11-29 10:00"), local("2026-11-29 20:00")),        # Sunday: closed
        (local("2026-12-23 17:30"), local("2026-12-28 08:30")),        # over a holiday and a weekend
        (local("2026-03-27 17:00"), local("2026-03-30 10:00")),        # Europe's spring DST weekend
        (local("2026-10-23 17:00"), local("2026-10-27 09:00")),        # autumn DST weekend + closed Monday
        (local("2026-03-06 12:00"), local("2026-03-09 12:00")),        # America's spring DST weekend
        (local("2026-11-27 12:00"), local("2026-11-27 11:00")),        # end before start: zero
        (local("2026-11-27 12:00"), local("2026-11-27 12:00")),
        (local("2026-11-02 09:00"), local("2026-12-04 16:00")),        # five weeks
    ]
    rng = random.Random(zone)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(300):
        a = base + timedelta(microseconds=rng.randrange(365 * 86400 * 10**6))
        pairs.append((a, a + timedelta(seconds=rng.choice([60, 3600, 86400, 7 * 86400]) * rng.random())))
    expected = [duetime.working_time_between(a, b, s) for a, b in pairs]
    assert _sql_working_times(cur, pairs) == expected


def test_response_times_are_median_and_p90_working_hours_by_source(cur, now, manager, source_ids, lead, berlin):
    phone, mobile = source_ids["Phone"], source_ids["mobile.de"]
    for hours in (1, 2, 3, 4):                      # Monday 08:00 + n working hours
        monday = berlin("2026-11-23 08:00")
        lead(manager, phone, monday, responded=monday + timedelta(hours=hours))
    # Friday 17:00 -> Monday 09:00: 1 h Friday + 4 h Saturday + 1 h Monday = 6 working hours
    lead(manager, mobile, berlin("2026-11-20 17:00"), responded=berlin("2026-11-23 09:00"),
         completed=berlin("2026-11-23 09:00"), reason="sold")
    lead(manager, mobile, berlin("2026-11-24 20:00"), responded=berlin("2026-11-25 08:30"))   # 0.5 h
    lead(manager, mobile, berlin("2026-11-25 09:00"))                                            # not answered
    lead(manager, mobile, berlin("2026-09-01 09:00"), responded=berlin("2026-11-24 09:00"))   # before the period
    frame = analytics.dashboard(cur, manager, now, MONTH).response_times
    got = {r.source: (round(r.median_hours, 6), round(r.p90_hours, 6), r.leads) for r in frame.itertuples()}
    assert got == {"mobile.de": (3.25, 5.45, 2), "Phone": (2.5, 3.7, 4)}
    fig = analytics.dashboard(cur, manager, now, MONTH).figures
    assert fig.median_response_hours == pytest.approx(2.5)          # of 0.5, 1, 2, 3, 4, 6
    picked = analytics.dashboard(cur, manager, now, month(picked_source="mobile.de")).figures
    assert picked.median_response_hours == pytest.approx(3.25)


# --- completions and win rate ---------------------------------------------------------------------

def test_completions_by_reason_and_outcome_and_the_win_rate(cur, now, manager, source_ids, lead, berlin):
    def done(source, reason, when="2026-11-20 10:00"):
        lead(manager, source_ids[source], berlin("2026-11-19 09:00"), responded=berlin(when),
             completed=berlin(when), reason=reason)

    done("mobile.de", "sold")
    done("mobile.de", "sold")
    done("mobile.de", "bought_elsewhere")
    done("Phone", "no_interest")
    done("Phone", "spam")
    done("Phone", "sold", when="2026-10-01 10:00")        # completed before the period
    frame = analytics.dashboard(cur, manager, now, MONTH).completions
    assert frame.values.tolist() == [
        ["mobile.de", "Sold", "won", 2], ["mobile.de", "Bought elsewhere", "lost", 1],
        ["Phone", "No interest", "lost", 1], ["Phone", "Spam", "neutral", 1]]
    fig = analytics.dashboard(cur, manager, now, MONTH).figures
    assert (fig.won, fig.lost, fig.win_rate) == (2, 2, 0.5)
    mobile = analytics.dashboard(cur, manager, now, month(picked_source="mobile.de")).figures
    assert mobile.win_rate == pytest.approx(2 / 3)


def test_an_empty_database_gives_zeros_and_empty_frames(cur, now, manager):
    data = analytics.dashboard(cur, manager, now, MONTH)
    assert data.figures == analytics.KeyFigures(0, 0, 0, 0, 0, None, 0, 0)
    assert data.figures.win_rate is None
    for name, columns in [("open_by_light", ["source", "traffic_light", "leads"]),
                          ("escalated", ["source", "escalation_level", "leads"]),
                          ("new_leads", ["period_start", "source", "leads"]),
                          ("response_times", ["source", "median_hours", "p90_hours", "leads"]),
                          ("completions", ["source", "reason", "outcome", "leads"]),
                          ("workload", ["editor", "open", "overdue"])]:
        frame = getattr(data, name)
        assert frame.empty and list(frame.columns) == columns, name


def test_the_dashboard_equals_the_single_read_models(cur, now, manager, desk):
    data = analytics.dashboard(cur, manager, now, MONTH)
    pd.testing.assert_frame_equal(data.open_by_light, analytics.dashboard(cur, manager, now, MONTH).open_by_light)
    pd.testing.assert_frame_equal(data.escalated, analytics.dashboard(cur, manager, now, MONTH).escalated)
    pd.testing.assert_frame_equal(data.workload, analytics.dashboard(cur, manager, now, MONTH).workload)
    pd.testing.assert_frame_equal(data.new_leads, analytics.dashboard(cur, manager, now, MONTH).new_leads)
    pd.testing.assert_frame_equal(data.completions, analytics.dashboard(cur, manager, now, MONTH).completions)
    assert data.figures == analytics.dashboard(cur, manager, now, MONTH).figures


def test_by_source_table_reads_as_one_row_per_source(cur, now, manager, desk):
    table = analytics.by_source_table(analytics.dashboard(cur, manager, now, MONTH).open_by_light, "traffic_light",
                                      [duetime.OVERDUE, duetime.DUE_SOON, duetime.ON_TIME])
    assert list(table.columns) == ["source", "overdue", "due soon", "on time", "total"]
    assert table["total"].sum() == 10


def test_the_dashboard_is_for_managers_supervisors_analysts_and_admins(seller, supervisor, manager, analyst,
                                                                      admin):
    for user in (supervisor, manager, analyst, admin):
        analytics.require_dashboard(user)
    with pytest.raises(PermissionDenied):
        analytics.require_dashboard(seller)
