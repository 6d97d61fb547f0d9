"""Settings pages' services: basic settings, working hours, escalation times (global and per
source) and holidays/closures, with their validation and who may change them."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from leadcore.admin import basic, settings, working_time
from leadcore.admin import holidays as closures
from leadcore.admin.settings import BasicSettings, EscalationTimes
from leadcore.errors import NotFound, PermissionDenied, ValidationErrors

SPEC_HOURS = [("08:00", "18:00")] * 5 + [("09:00", "13:00"), None]


def _fields(caught) -> dict[str, str]:
    return caught.value.by_field()


def _audit_areas(cur) -> list[str]:
    """Areas of the audit rows, without the fixtures' accounts being added."""
    return [r[0] for r in cur.execute("SELECT area FROM audit_log WHERE area <> 'users' ORDER BY id").fetchall()]


# --- who may ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["seller", "supervisor", "analyst"])
def test_only_managers_and_admins_change_settings(cur, now, request, role):
    user = request.getfixturevalue({"seller": "seller", "supervisor": "supervisor", "analyst": "analyst"}[role])
    attempts = [
        lambda: basic.update_basic_settings(cur, user, now, BasicSettings()),
        lambda: working_time.update_working_hours(cur, user, now, SPEC_HOURS),
        lambda: working_time.update_escalation_times(cur, user, now, EscalationTimes(60, 15, 240, 1440)),
        lambda: working_time.set_source_escalation(cur, user, now, 1, EscalationTimes(60, None, None, None)),
        lambda: closures.add_closure(cur, user, now, "Closed", date(2026, 12, 24)),
        lambda: closures.remove_closures(cur, user, now, [date(2026, 12, 24)]),
        lambda: closures.fill_public_holidays(cur, user, now, "BY", 2026),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert _audit_areas(cur) == []


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_change_settings(cur, now, request, role):
    user = request.getfixturevalue(role)
    basic.update_basic_settings(cur, user, now, BasicSettings(email_from_name="Autohaus Müller"))
    assert settings.basic_settings(cur).email_from_name == "Autohaus Müller"


def test_a_deactivated_manager_may_not_change_settings(cur, now, manager):
    from dataclasses import replace
    with pytest.raises(PermissionDenied):
        basic.update_basic_settings(cur, replace(manager, active=False), now, BasicSettings())


# --- basic settings --------------------------------------------------------------------------

def test_basic_settings_ship_with_defaults(cur):
    assert settings.basic_settings(cur) == BasicSettings(
        mailbox_address="", forwarding_target="", email_from_name="Autohaus",
        user_name_display="first_last", distribute_to_previous_editor=True)


def test_basic_settings_are_saved_trimmed_and_audited(cur, now, manager):
    saved = basic.update_basic_settings(cur, manager, now, BasicSettings(
        mailbox_address="  leads@autohaus-mueller.de ", forwarding_target="verkauf@autohaus-mueller.de",
        email_from_name="  Autohaus Müller ", user_name_display="last_first",
        distribute_to_previous_editor=False))
    assert settings.basic_settings(cur) == saved == BasicSettings(
        "leads@autohaus-mueller.de", "verkauf@autohaus-mueller.de", "Autohaus Müller", "last_first", False)
    assert _audit_areas(cur) == ["basic_settings"]


def test_the_forwarding_target_can_change_any_time_and_be_emptied(cur, now, manager):
    for target in ("a@autohaus-mueller.de", "b@autohaus-mueller.de", ""):
        basic.update_basic_settings(cur, manager, now, BasicSettings(forwarding_target=target))
        assert settings.basic_settings(cur).forwarding_target == target


@pytest.mark.parametrize("changes, field, message", [
    ({"mailbox_address": "leads at autohaus"}, "mailbox_address",
     "Lead mailbox address is not a valid e-mail address."),
    ({"forwarding_target": "nobody@"}, "forwarding_target", "Forwarding target is not a valid e-mail address."),
    ({"email_from_name": "   "}, "email_from_name", "E-mail from name is required."),
    ({"email_from_name": "x" * 101}, "email_from_name", "E-mail from name can have at most 100 characters."),
    ({"email_from_name": "Autohaus\r\nBcc: all@example.de"}, "email_from_name",
     "E-mail from name cannot contain line breaks, quotes, @ or angle brackets."),
    ({"user_name_display": "nickname"}, "user_name_display",
     "Show user names as must be one of the offered choices."),
])
def test_bad_basic_settings_name_the_field_and_change_nothing(cur, now, manager, changes, field, message):
    with pytest.raises(ValidationErrors) as caught:
        basic.update_basic_settings(cur, manager, now, BasicSettings(**changes))
    assert _fields(caught) == {field: message}
    assert settings.basic_settings(cur) == BasicSettings()


# --- working hours ---------------------------------------------------------------------------

def test_working_hours_ship_as_the_spec_says(cur):
    assert settings.working_hours(cur) == SPEC_HOURS


def test_working_hours_are_saved_with_several_closed_days(cur, now, manager):
    hours = [("07:30", "17:00"), None, ("07:30", "17:00"), None, (time(7, 30), time(15)), None, None]
    working_time.update_working_hours(cur, manager, now, hours)
    assert settings.working_hours(cur) == [("07:30", "17:00"), None, ("07:30", "17:00"), None,
                                           ("07:30", "15:00"), None, None]
    rules = settings.due_settings(cur)
    assert rules.working_hours[4] == (time(7, 30), time(15)) and rules.working_hours[1] is None
    assert _audit_areas(cur) == ["working_hours"]


def test_opening_must_be_before_closing_and_each_bad_day_is_named(cur, now, manager):
    hours = list(SPEC_HOURS)
    hours[0] = ("18:00", "08:00")
    hours[2] = ("10:00", "10:00")
    hours[5] = ("9 Uhr", "13:00")
    with pytest.raises(ValidationErrors) as caught:
        working_time.update_working_hours(cur, manager, now, hours)
    assert _fields(caught) == {
        "day_0": "Monday: the opening time must be before the closing time.",
        "day_2": "Wednesday: the opening time must be before the closing time.",
        "day_5": "Saturday: opening and closing times look like 08:00.",
    }
    assert settings.working_hours(cur) == SPEC_HOURS


@pytest.mark.parametrize("bad", ["24:00", "8:00", "08:60", "", "08-00"])
def test_times_are_hh_mm(cur, now, manager, bad):
    hours = list(SPEC_HOURS)
    hours[1] = ("08:00", bad)
    with pytest.raises(ValidationErrors) as caught:
        working_time.update_working_hours(cur, manager, now, hours)
    assert list(_fields(caught)) == ["day_1"]


def test_not_every_day_may_be_closed(cur, now, manager):
    with pytest.raises(ValidationErrors) as caught:
        working_time.update_working_hours(cur, manager, now, [None] * 7)
    assert _fields(caught) == {"working_hours": "At least one weekday must have working hours; "
                                                "several days may be closed, but not all."}


def test_working_hours_need_seven_days(cur, now, manager):
    with pytest.raises(ValidationErrors) as caught:
        working_time.update_working_hours(cur, manager, now, SPEC_HOURS[:6])
    assert list(_fields(caught)) == ["working_hours"]


# --- escalation times ------------------------------------------------------------------------

def test_escalation_times_ship_as_the_spec_says(cur):
    assert settings.escalation_times(cur) == EscalationTimes(120, 30, 240, 1440)


def test_global_escalation_times_are_saved(cur, now, manager):
    working_time.update_escalation_times(cur, manager, now, EscalationTimes(60, 15, 180, 2880))
    assert settings.escalation_times(cur) == EscalationTimes(60, 15, 180, 2880)
    rules = settings.due_settings(cur)
    assert (rules.stage1, rules.reminder, rules.stage2, rules.stage2_resubmission) == (
        timedelta(minutes=60), timedelta(minutes=15), timedelta(minutes=180), timedelta(days=2))
    assert _audit_areas(cur) == ["escalation"]


@pytest.mark.parametrize("times, field, message", [
    (EscalationTimes(0, 15, 240, 1440), "stage1_minutes", "Stage 1 (working time) must be at least 1 minute."),
    (EscalationTimes(120, -5, 240, 1440), "reminder_minutes", "Seller reminder must be at least 1 minute."),
    (EscalationTimes(120, 30, 20161, 1440), "stage2_minutes", "Stage 2 can be at most 20,160 minutes (14 days)."),
    (EscalationTimes(120, 30, 240, 43201), "stage2_resubmission_minutes",
     "Stage 2 for resubmissions can be at most 43,200 minutes (30 days)."),
    (EscalationTimes(120, 30, 240.5, 1440), "stage2_minutes", "Stage 2 must be a whole number of minutes."),
    (EscalationTimes(120, 30, True, 1440), "stage2_minutes", "Stage 2 must be a whole number of minutes."),
    (EscalationTimes(60, 60, 240, 1440), "reminder_minutes",
     "Seller reminder must be shorter than stage 1, or the lead would be due soon on arrival."),
    (EscalationTimes(None, 30, 240, 1440), "stage1_minutes", "Stage 1 (working time) is required."),
])
def test_bad_escalation_times_name_the_field(cur, now, manager, times, field, message):
    with pytest.raises(ValidationErrors) as caught:
        working_time.update_escalation_times(cur, manager, now, times)
    assert _fields(caught) == {field: message}
    assert settings.escalation_times(cur) == EscalationTimes(120, 30, 240, 1440)


def test_a_source_override_merges_over_the_global_times(cur, now, manager, source_ids):
    mobile, phone = source_ids["mobile.de"], source_ids["Phone"]
    working_time.set_source_escalation(cur, manager, now, mobile, EscalationTimes(30, 10, None, None))
    assert settings.source_escalation(cur, mobile) == EscalationTimes(30, 10, None, None)
    merged = settings.due_settings(cur, mobile)
    assert (merged.stage1, merged.reminder, merged.stage2, merged.stage2_resubmission) == (
        timedelta(minutes=30), timedelta(minutes=10), timedelta(hours=4), timedelta(hours=24))
    assert settings.due_settings(cur, phone) == settings.due_settings(cur) == settings.due_settings(cur, None)
    # A later global change still reaches the columns the source leaves open.
    working_time.update_escalation_times(cur, manager, now, EscalationTimes(120, 30, 300, 1440))
    assert settings.due_settings(cur, mobile).stage2 == timedelta(minutes=300)
    assert settings.due_settings(cur, mobile).stage1 == timedelta(minutes=30)


def test_an_override_is_removed_with_none_or_all_empty(cur, now, manager, source_ids):
    mobile = source_ids["mobile.de"]
    for removal in (None, EscalationTimes(None, None, None, None)):
        working_time.set_source_escalation(cur, manager, now, mobile, EscalationTimes(60, None, None, None))
        assert settings.source_escalation(cur, mobile) is not None
        working_time.set_source_escalation(cur, manager, now, mobile, removal)
        assert settings.source_escalation(cur, mobile) is None
        assert settings.due_settings(cur, mobile) == settings.due_settings(cur)


def test_an_override_is_checked_against_the_times_it_inherits(cur, now, manager, source_ids):
    # stage 1 of 20 minutes with the global reminder of 30 minutes: due soon on arrival.
    with pytest.raises(ValidationErrors) as caught:
        working_time.set_source_escalation(cur, manager, now, source_ids["Phone"], EscalationTimes(20, None, None, None))
    assert list(_fields(caught)) == ["reminder_minutes"]
    with pytest.raises(ValidationErrors) as caught:
        working_time.set_source_escalation(cur, manager, now, source_ids["Phone"], EscalationTimes(None, 0, None, None))
    assert list(_fields(caught)) == ["reminder_minutes"]
    assert settings.source_escalation(cur, source_ids["Phone"]) is None


def test_an_override_for_an_unknown_source_is_not_found(cur, now, manager):
    with pytest.raises(NotFound):
        working_time.set_source_escalation(cur, manager, now, 999, EscalationTimes(60, None, None, None))


# --- holidays and closures -------------------------------------------------------------------

def test_a_single_closure_day(cur, now, manager):
    result = closures.add_closure(cur, manager, now, "  Betriebsausflug ", date(2026, 7, 3))
    assert result.added == (date(2026, 7, 3),) and result.skipped == ()
    assert closures.list_closures(cur) == [closures.Closure(date(2026, 7, 3), "Betriebsausflug")]
    assert date(2026, 7, 3) in settings.due_settings(cur).holidays
    assert _audit_areas(cur) == ["holidays"]


def test_a_range_is_one_row_per_day(cur, now, manager):
    closures.add_closure(cur, manager, now, "Christmas closure", date(2026, 12, 24), date(2026, 12, 31))
    days = [c.day for c in closures.list_closures(cur, 2026)]
    assert days == [date(2026, 12, d) for d in range(24, 32)]
    assert closures.list_closures(cur, 2027) == []


def test_a_range_keeps_days_listed_already(cur, now, manager):
    closures.add_closure(cur, manager, now, "Christmas Day", date(2026, 12, 25))
    result = closures.add_closure(cur, manager, now, "Christmas closure", date(2026, 12, 24), date(2026, 12, 27))
    assert result.skipped == (date(2026, 12, 25),)
    assert len(result.added) == 3
    names = {c.day: c.name for c in closures.list_closures(cur)}
    assert names[date(2026, 12, 25)] == "Christmas Day"
    assert names[date(2026, 12, 24)] == "Christmas closure"


@pytest.mark.parametrize("name, first, last, field, message", [
    ("  ", date(2026, 7, 3), None, "name", "Name is required."),
    ("x" * 101, date(2026, 7, 3), None, "name", "Name can have at most 100 characters."),
    ("Closed", None, None, "first_day", "Date is required."),
    ("Closed", date(2026, 7, 3), date(2026, 7, 2), "last_day", "The last day cannot be before the first day."),
    ("Closed", date(2026, 1, 1), date(2027, 1, 2), "last_day", "A closure can last at most 366 days."),
])
def test_bad_closures_name_the_field(cur, now, manager, name, first, last, field, message):
    with pytest.raises(ValidationErrors) as caught:
        closures.add_closure(cur, manager, now, name, first, last)
    assert _fields(caught) == {field: message}
    assert closures.list_closures(cur) == []


def test_a_day_listed_already_is_refused(cur, now, manager):
    closures.add_closure(cur, manager, now, "Closed", date(2026, 7, 3))
    with pytest.raises(ValidationErrors) as caught:
        closures.add_closure(cur, manager, now, "Closed again", date(2026, 7, 3))
    assert _fields(caught) == {"first_day": "This day is listed already."}
    assert _audit_areas(cur) == ["holidays"]


def test_removing_days(cur, now, manager):
    closures.add_closure(cur, manager, now, "Closure", date(2026, 8, 3), date(2026, 8, 7))
    assert closures.remove_closures(cur, manager, now, [date(2026, 8, 4), date(2026, 8, 5), date(2026, 9, 1)]) == 2
    assert [c.day for c in closures.list_closures(cur)] == [date(2026, 8, 3), date(2026, 8, 6), date(2026, 8, 7)]
    with pytest.raises(ValidationErrors) as caught:
        closures.remove_closures(cur, manager, now, [])
    assert list(_fields(caught)) == ["days"]


def test_public_holidays_of_a_state_are_filled_in(cur, now, manager):
    result = closures.fill_public_holidays(cur, manager, now, "BY", 2026)
    days = {c.day: c.name for c in closures.list_closures(cur, 2026)}
    assert len(result.added) == len(days) >= 12
    assert date(2026, 1, 6) in days            # Epiphany: Bavaria, not Berlin
    assert date(2026, 6, 4) in days            # Corpus Christi
    assert date(2026, 10, 3) in days and date(2026, 12, 25) in days
    assert days[date(2026, 12, 25)] == "Christmas Day"


def test_states_differ(cur, now, manager):
    closures.fill_public_holidays(cur, manager, now, "BE", 2026)
    days = {c.day for c in closures.list_closures(cur, 2026)}
    assert date(2026, 1, 6) not in days and date(2026, 3, 8) in days   # Berlin: Women's Day, no Epiphany


def test_filling_twice_or_over_own_days_duplicates_nothing(cur, now, manager):
    closures.add_closure(cur, manager, now, "Weihnachten (eigene)", date(2026, 12, 25))
    first = closures.fill_public_holidays(cur, manager, now, "NW", 2026)
    assert date(2026, 12, 25) in first.skipped
    again = closures.fill_public_holidays(cur, manager, now, "NW", 2026)
    assert again.added == () and len(again.skipped) == len(first.added) + 1
    names = {c.day: c.name for c in closures.list_closures(cur)}
    assert names[date(2026, 12, 25)] == "Weihnachten (eigene)"
    assert cur.execute("SELECT count(*) FROM holidays").fetchall()[0][0] == len(names)


def test_public_holiday_names_follow_the_ui_language(monkeypatch):
    monkeypatch.setenv("LEADCORE_LANGUAGE", "de")
    names = {c.day: c.name for c in closures.public_holidays_of("BY", 2026)}
    assert names[date(2026, 12, 25)] == "Erster Weihnachtstag"


@pytest.mark.parametrize("state, year, field", [("XX", 2026, "state"), ("", 2026, "state"),
                                                ("BY", 1999, "year"), ("BY", 2101, "year")])
def test_fill_checks_state_and_year(cur, now, manager, state, year, field):
    with pytest.raises(ValidationErrors) as caught:
        closures.fill_public_holidays(cur, manager, now, state, year)
    assert list(_fields(caught)) == [field]
    assert closures.list_closures(cur) == []


def test_every_german_state_is_offered():
    assert sorted(closures.GERMAN_STATES) == sorted(
        ["BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH"])
