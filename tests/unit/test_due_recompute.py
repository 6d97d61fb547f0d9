"""Changing working hours, holidays or escalation times re-derives the due time and traffic
light of every open lead at once (per source, where a source overrides the times); completed
leads keep theirs. The bulk computation agrees with leadcore.duetime lead by lead."""
from __future__ import annotations

import time as clock
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from leadcore import db
from leadcore.admin import holidays as closures
from leadcore.admin import settings, working_time
from leadcore.admin.settings import EscalationTimes
from leadcore.leads import detail as lead_detail
from leadcore.leads import listing as lead_list
from leadcore.leads import recompute
from leadcore.leads import service as leads
from leadcore.leads.listing import LeadFilter
from leadcore.leads.recompute import recompute_open_leads
from leadcore.rules import duetime

SPEC_HOURS = [("08:00", "18:00")] * 5 + [("09:00", "13:00"), None]
UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


def _due(cur, lead_id: int) -> tuple[datetime, datetime, datetime]:
    return tuple(cur.execute("SELECT due_at, reminder_at, stage2_at FROM leads WHERE id = ?", [lead_id]).fetchall()[0])


def _light(cur, user, at: datetime, lead_id: int) -> str:
    return lead_detail.get_lead(cur, user, at, lead_id).traffic_light


def test_a_shorter_stage_1_makes_an_open_lead_overdue_at_once(cur, now, manager, seller, make_lead, berlin):
    lead = make_lead(seller, at=berlin("2026-11-27 09:00"))
    assert _due(cur, lead)[0] == berlin("2026-11-27 11:00")
    assert _light(cur, seller, now, lead) == duetime.ON_TIME
    changed = working_time.update_escalation_times(cur, manager, now, EscalationTimes(60, 20, 240, 1440))
    assert changed == 1
    assert _due(cur, lead) == (berlin("2026-11-27 10:00"), berlin("2026-11-27 09:40"), berlin("2026-11-27 14:00"))
    assert _light(cur, seller, now, lead) == duetime.OVERDUE
    [row] = lead_list.list_leads(cur, seller, now, LeadFilter()).rows.to_dict("records")
    assert (row["traffic_light"], row["escalation_level"]) == (duetime.OVERDUE, 1)


def test_a_longer_reminder_turns_the_light_amber(cur, now, manager, seller, make_lead):
    lead = make_lead(seller)                          # due 12:00, reminded 11:30
    working_time.update_escalation_times(cur, manager, now, EscalationTimes(120, 119, 240, 1440))
    assert _light(cur, seller, now + timedelta(minutes=5), lead) == duetime.DUE_SOON


def test_shorter_working_hours_move_the_due_time(cur, now, manager, seller, make_lead, berlin):
    lead = make_lead(seller)                          # Friday 10:00, due 12:00
    hours = list(SPEC_HOURS)
    hours[4] = ("08:00", "11:00")                     # Friday closes at 11:00
    working_time.update_working_hours(cur, manager, now, hours)
    # One hour on Friday, the second on Saturday from 09:00.
    assert _due(cur, lead)[0] == berlin("2026-11-28 10:00")
    hours[5] = None                                   # and no Saturday either
    working_time.update_working_hours(cur, manager, now, hours)
    assert _due(cur, lead)[0] == berlin("2026-11-30 09:00")


def test_a_holiday_today_moves_the_due_time_and_removing_it_moves_it_back(cur, now, manager, seller,
                                                                           make_lead, berlin):
    lead = make_lead(seller)
    closures.add_closure(cur, manager, now, "Company outing", date(2026, 11, 27))
    assert _due(cur, lead)[0] == berlin("2026-11-28 11:00")        # Saturday 09:00 + 2 h
    assert _light(cur, seller, berlin("2026-11-27 12:30"), lead) == duetime.ON_TIME
    closures.remove_closures(cur, manager, now, [date(2026, 11, 27)])
    assert _due(cur, lead)[0] == berlin("2026-11-27 12:00")


def test_public_holidays_filled_in_apply_at_once(cur, manager, seller, make_lead, berlin):
    christmas_eve = berlin("2026-12-24 17:00")        # Thursday; 25th and 26th are holidays
    lead = make_lead(seller, at=christmas_eve)
    assert _due(cur, lead)[0] == berlin("2026-12-25 09:00")
    closures.fill_public_holidays(cur, manager, christmas_eve, "BE", 2026)
    assert _due(cur, lead)[0] == berlin("2026-12-28 09:00")        # Monday 08:00 + the second hour


def test_completed_leads_keep_their_due_times(cur, now, manager, seller, make_lead):
    done, still_open = make_lead(seller), make_lead(seller)
    sold = cur.execute("SELECT id FROM completion_reasons WHERE code = 'sold'").fetchall()[0][0]
    leads.complete(cur, seller, now, done, sold)
    before = _due(cur, done)
    working_time.update_escalation_times(cur, manager, now, EscalationTimes(60, 20, 120, 600))
    closures.add_closure(cur, manager, now, "Closed", date(2026, 11, 30))
    assert _due(cur, done) == before
    assert _due(cur, still_open) != before


def test_a_resubmission_stays_the_due_time_but_its_stage_2_follows(cur, now, manager, seller, make_lead, berlin):
    resubmission = berlin("2026-11-30 09:00")
    lead = make_lead(seller, resubmission_at=resubmission)
    working_time.update_escalation_times(cur, manager, now, EscalationTimes(60, 10, 240, 120))
    assert _due(cur, lead) == (resubmission, berlin("2026-11-30 08:50"), berlin("2026-11-30 11:00"))


def test_a_source_override_changes_only_that_sources_leads(cur, now, manager, seller, make_lead, source_ids,
                                                           berlin):
    mobile, phone = make_lead(seller, source="mobile.de"), make_lead(seller, source="Phone")
    changed = working_time.set_source_escalation(cur, manager, now, source_ids["mobile.de"],
                                             EscalationTimes(60, 15, None, None))
    assert changed == 1
    assert _due(cur, mobile) == (berlin("2026-11-27 11:00"), berlin("2026-11-27 10:45"), berlin("2026-11-27 15:00"))
    assert _due(cur, phone)[0] == berlin("2026-11-27 12:00")
    working_time.set_source_escalation(cur, manager, now, source_ids["mobile.de"], None)
    assert _due(cur, mobile)[0] == berlin("2026-11-27 12:00")


def test_new_and_worked_leads_use_their_sources_override(cur, now, manager, seller, make_lead, source_ids,
                                                         berlin):
    """leads.py derives due times with the settings of the lead's own source."""
    working_time.set_source_escalation(cur, manager, now, source_ids["AutoScout24"], EscalationTimes(45, 15, 60, 90))
    lead = make_lead(seller, source="AutoScout24")
    assert _due(cur, lead) == (berlin("2026-11-27 10:45"), berlin("2026-11-27 10:30"), berlin("2026-11-27 11:45"))
    resubmission = berlin("2026-11-30 09:00")
    leads.add_note(cur, seller, now, lead, "Called, back on Monday", resubmission)
    assert _due(cur, lead)[2] == resubmission + timedelta(minutes=90)
    leads.set_resubmission(cur, seller, now, lead, None)
    assert _due(cur, lead)[0] == berlin("2026-11-27 10:45")
    assert _due(cur, make_lead(seller, source="Phone"))[0] == berlin("2026-11-27 12:00")


def test_recompute_counts_changed_leads_and_a_second_run_changes_none(cur, now, seller, make_lead):
    for _ in range(3):
        make_lead(seller)
    cur.execute("UPDATE leads SET due_at = due_at + INTERVAL '1 hour'")
    with db.transaction(cur):
        assert recompute_open_leads(cur) == 3
    with db.transaction(cur):
        assert recompute_open_leads(cur) == 0


def test_recompute_of_one_source_leaves_the_others(cur, seller, make_lead, source_ids):
    mobile, phone = make_lead(seller, source="mobile.de"), make_lead(seller, source="Phone")
    cur.execute("UPDATE leads SET due_at = due_at + INTERVAL '1 hour'")
    stale = _due(cur, phone)
    assert recompute_open_leads(cur, source_ids["mobile.de"]) == 1
    assert _due(cur, phone) == stale
    assert recompute_open_leads(cur, source_ids["Phone"]) == 1
    assert _due(cur, mobile) != stale


def test_recompute_without_open_leads_is_a_no_op(cur):
    assert recompute_open_leads(cur) == 0


def test_settings_and_due_times_change_in_one_transaction(cur, now, manager, seller, make_lead, monkeypatch):
    """When re-deriving fails, the new working hours are not stored either."""
    lead = make_lead(seller)
    before = _due(cur, lead)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(recompute, "recompute_open_leads", broken)   # the one place both callers use
    hours = list(SPEC_HOURS)
    hours[4] = ("08:00", "11:00")
    with pytest.raises(RuntimeError):
        working_time.update_working_hours(cur, manager, now, hours)
    with pytest.raises(RuntimeError):
        closures.add_closure(cur, manager, now, "Closed", date(2026, 11, 27))
    assert settings.working_hours(cur) == SPEC_HOURS
    assert closures.list_closures(cur) == []
    assert _due(cur, lead) == before


def test_recompute_agrees_with_duetime_lead_by_lead(cur, now, manager, seller, source_ids):
    """Arrivals spread over a year (DST changes, weekends, holidays, nights) on every source."""
    closures.fill_public_holidays(cur, manager, now, "NW", 2026)
    closures.add_closure(cur, manager, now, "Inventory", date(2026, 3, 27), date(2026, 3, 31))
    working_time.set_source_escalation(cur, manager, now, source_ids["Phone"], EscalationTimes(600, 45, 60, 30))
    rng = np.random.default_rng(5)
    ids = list(source_ids.values())
    rows = []
    for i in range(3000):
        arrived = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=int(rng.integers(0, 365 * 86400)))
        resubmission = arrived + timedelta(hours=int(rng.integers(1, 200))) if i % 5 == 0 else None
        rows.append((i + 1000, int(rng.choice(ids)), arrived, resubmission))
    new_leads = pd.DataFrame(rows, columns=["id", "source_id", "arrived_at", "resubmission_at"])
    with db.staged(cur, "new_leads", new_leads):
        cur.execute(
            "INSERT INTO leads (id, contact_id, source_id, lead_type, subject, editor_id, created_by, status,"
            " arrived_at, resubmission_at, due_at, reminder_at, stage2_at, last_activity_at)"
            " SELECT id, 1, source_id, 'new_car', 's', $seller, $seller, 'open', arrived_at, resubmission_at,"
            " now(), now(), now(), now() FROM new_leads", {"seller": seller.id})
    recompute_open_leads(cur)
    stored = {r[0]: r[1:] for r in cur.execute("SELECT id, due_at, reminder_at, stage2_at FROM leads").fetchall()}
    rules = {source: settings.due_settings(cur, source) for source in ids}
    for lead_id, source, arrived, resubmission in rows:
        expected = duetime.due_times(arrived, resubmission, rules[source])
        assert stored[lead_id] == (expected.due_at, expected.reminder_at, expected.stage2_at), lead_id


@pytest.mark.duckdb_only("times DuckDB's columnar update; PostgreSQL's recompute is checked for correctness above")
def test_300000_open_leads_are_recomputed_in_a_few_seconds(cur, seller):
    cur.execute(
        """
        INSERT INTO leads (contact_id, source_id, lead_type, subject, editor_id, created_by, status,
                           arrived_at, resubmission_at, due_at, reminder_at, stage2_at, last_activity_at)
        SELECT 1, 1 + i % 6, 'new_car', 's', $seller, $seller,
               CASE WHEN i % 10 < 3 THEN 'completed' ELSE 'open' END,
               TIMESTAMPTZ '2026-01-01 00:00:00+00' + (i * 97 % 31536000) * INTERVAL '1 second',
               CASE WHEN i % 4 = 0 THEN TIMESTAMPTZ '2026-06-01 00:00:00+00' + (i % 1000000) * INTERVAL '1 second' END,
               now(), now(), now(), now()
        FROM generate_series(0, 429999) t(i)
        """, {"seller": seller.id})
    started = clock.perf_counter()
    with db.transaction(cur):
        changed = recompute_open_leads(cur)
    seconds = clock.perf_counter() - started
    assert changed == 301000
    assert seconds < 5, f"{seconds:.2f} s"
