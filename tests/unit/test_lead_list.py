"""The Leads list: traffic light and escalation in SQL, order, filters, keyset paging, count."""
from __future__ import annotations

from datetime import date, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from leadcore import auth
from leadcore.contacts import service as contacts
from leadcore.contacts.service import ContactInput
from leadcore.leads import detail as lead_detail
from leadcore.leads import listing as lead_list
from leadcore.leads import service as leads
from leadcore.leads.listing import LeadFilter
from leadcore.rules import duetime

US = timedelta(microseconds=1)
BOTH = ("open", "completed")
ZONES = {"berlin": ZoneInfo("Europe/Berlin"), "utc": timezone.utc}


def _ids(cur, user, now, f=LeadFilter(), page_size=500) -> list[int]:
    return lead_list.list_leads(cur, user, now, f, page_size=page_size).rows["id"].astype(int).tolist()


def _reason(cur, code="sold") -> int:
    return cur.execute("SELECT id FROM completion_reasons WHERE code = ?", [code]).fetchall()[0][0]


# --- traffic light and escalation: SQL equals duetime at every boundary --------------------

def _moments(t: duetime.DueTimes):
    for name in ("reminder_at", "due_at", "stage2_at"):
        edge = getattr(t, name)
        yield f"{name}-1us", edge - US
        yield name, edge
        yield f"{name}+1us", edge + US


@pytest.mark.parametrize("zone", list(ZONES))
@pytest.mark.parametrize("resubmission", [False, True], ids=["stage1-due", "resubmission-due"])
def test_list_traffic_light_and_escalation_equal_duetime_at_the_boundaries(
        cur, now, manager, make_lead, berlin, resubmission, zone):
    lead_id = make_lead(manager, resubmission_at=berlin("2026-11-30 09:00:00.000500") if resubmission else None)
    times = lead_detail.get_lead(cur, manager, now, lead_id).times
    seen = []
    for label, moment in _moments(times):
        moment = moment.astimezone(ZONES[zone])
        expected = (duetime.traffic_light(moment, times), duetime.escalation_level(moment, times))
        row = lead_list.list_leads(cur, manager, moment, LeadFilter()).rows.iloc[0]
        assert (row["traffic_light"], int(row["escalation_level"])) == expected, label
        detail = lead_detail.get_lead(cur, manager, moment, lead_id)
        assert (detail.traffic_light, detail.escalation_level) == expected, label
        for light in (duetime.ON_TIME, duetime.DUE_SOON, duetime.OVERDUE):
            filtered = lead_list.count_leads(cur, manager, moment, LeadFilter(traffic_lights=(light,)))
            assert filtered == (1 if light == expected[0] else 0), (label, light)
        seen.append(expected)
    assert seen == [("on time", 0), ("due soon", 0), ("due soon", 0),
                    ("due soon", 0), ("overdue", 1), ("overdue", 1),
                    ("overdue", 1), ("overdue", 2), ("overdue", 2)]


def test_the_sql_twins_are_the_same_rule_as_duetime(cur, now, manager, make_lead, berlin):
    """Across a whole day in 13-minute steps, not only at the edges."""
    lead_id = make_lead(manager)
    times = lead_detail.get_lead(cur, manager, now, lead_id).times
    moment, levels = berlin("2026-11-27 09:00"), set()
    while moment < berlin("2026-11-27 18:00"):
        row = lead_list.list_leads(cur, manager, moment, LeadFilter()).rows.iloc[0]
        expected = (duetime.traffic_light(moment, times), duetime.escalation_level(moment, times))
        assert (row["traffic_light"], int(row["escalation_level"])) == expected, moment
        levels.add(expected)
        moment += timedelta(minutes=13)
    assert len(levels) == 4


def test_a_completed_lead_has_no_traffic_light_and_level_0(cur, now, manager, make_lead, berlin):
    lead_id = make_lead(manager)
    leads.complete(cur, manager, now, lead_id, _reason(cur))
    late = berlin("2026-12-24 12:00")
    row = lead_list.list_leads(cur, manager, late, LeadFilter(statuses=("completed",))).rows.iloc[0]
    assert row["traffic_light"] is None or row["traffic_light"] != row["traffic_light"]   # None/NaN
    assert int(row["escalation_level"]) == 0
    assert row["status"] == "completed"


# --- order ----------------------------------------------------------------------------------

def test_open_before_completed_overdue_first_then_by_due(cur, now, manager, make_lead, berlin):
    monday = make_lead(manager, subject="monday", resubmission_at=berlin("2026-11-30 09:00"))
    today = make_lead(manager, subject="today")                                  # due 12:00
    overdue = make_lead(manager, subject="overdue", at=berlin("2026-11-26 09:00"))  # due Thu 11:00
    soon = make_lead(manager, subject="soon", resubmission_at=berlin("2026-11-27 10:15"))
    done_early = make_lead(manager, subject="done-early", at=berlin("2026-11-25 09:00"))
    done_late = make_lead(manager, subject="done-late", resubmission_at=berlin("2026-12-05 09:00"))
    for lead_id in (done_late, done_early):
        leads.complete(cur, manager, now, lead_id, _reason(cur))

    rows = lead_list.list_leads(cur, manager, now, LeadFilter(statuses=BOTH)).rows
    assert rows["id"].astype(int).tolist() == [overdue, soon, today, monday, done_early, done_late]
    assert list(rows["traffic_light"][:4]) == ["overdue", "due soon", "on time", "on time"]
    assert list(rows["status"]) == ["open"] * 4 + ["completed"] * 2
    assert list(rows.columns) == lead_list.LIST_COLUMNS


def test_list_rows_name_customer_editor_and_source(cur, now, manager, seller, make_lead):
    company = contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(company="Taxi Berlin GmbH"))
    make_lead(manager, editor=seller, source="Phone", contact_id=company.id, subject="Flotte")
    row = lead_list.list_leads(cur, manager, now, LeadFilter()).rows.iloc[0]
    assert (row["customer"], row["editor"], row["source"], row["subject"], row["lead_type"]) == (
        "Taxi Berlin GmbH", "Anna Becker", "Phone", "Flotte", "new_car")


def test_an_empty_list_has_the_list_columns(cur, now, manager):
    page = lead_list.list_leads(cur, manager, now, LeadFilter())
    assert page.rows.empty and list(page.rows.columns) == lead_list.LIST_COLUMNS
    assert page.next_after is None


# --- filters --------------------------------------------------------------------------------

@pytest.fixture
def desk(cur, now, seller, seller2, manager, contact, make_lead, berlin):
    """Five leads of two contacts, two sellers, several sources/types; one completed."""
    erika = contacts.create_contact(cur, auth.SYSTEM, now, ContactInput(
        first_name="Erika", last_name="Musterfrau", email="erika@web.example", phone="030 9876543"))
    made = {
        "golf": make_lead(seller, subject="Golf GTI Probefahrt"),
        "tiguan": make_lead(seller, subject="Tiguan Leasing", source="AutoScout24", lead_type="financing",
                            resubmission_at=berlin("2026-11-27 10:20")),
        "service": make_lead(seller2, subject="Inspektion", source="Phone", lead_type="service",
                             contact_id=erika.id, at=berlin("2026-11-26 09:00")),
        "passat": make_lead(seller2, subject="Passat Inzahlungnahme", source="Walk-in", lead_type="trade_in",
                            contact_id=erika.id, resubmission_at=berlin("2026-12-01 10:00")),
        "sold": make_lead(seller, subject="Polo verkauft", lead_type="used_car"),
    }
    leads.complete(cur, seller, now, made["sold"], _reason(cur))
    made["erika"] = erika.id
    return made


def _names(desk, ids) -> set[str]:
    return {k for k, v in desk.items() if k != "erika" and v in ids}


@pytest.mark.parametrize("text, expected", [
    pytest.param("mustermann", {"golf", "tiguan"}, id="last-name"),
    pytest.param("Erika Musterfrau", {"service", "passat"}, id="full-name"),
    pytest.param("MUSTER", {"golf", "tiguan", "service", "passat"}, id="name-fragment-any-case"),
    pytest.param("erika@web", {"service", "passat"}, id="email"),
    pytest.param("0171 1234567", {"golf", "tiguan"}, id="phone-national"),
    pytest.param("+49 30 9876543", {"service", "passat"}, id="phone-international"),
    pytest.param("tiguan", {"tiguan"}, id="subject"),
    pytest.param("inzahlung", {"passat"}, id="subject-fragment"),
    pytest.param("Skoda", set(), id="nothing"),
])
def test_filter_by_free_text(cur, now, manager, desk, text, expected):
    f = LeadFilter(text=text)
    ids = _ids(cur, manager, now, f)
    assert _names(desk, ids) == expected
    assert lead_list.count_leads(cur, manager, now, f) == len(expected)


def test_filter_by_source_editor_and_lead_type(cur, now, manager, seller2, desk, source_ids):
    by_source = LeadFilter(source_ids=(source_ids["Phone"], source_ids["Walk-in"]))
    assert _names(desk, _ids(cur, manager, now, by_source)) == {"service", "passat"}
    assert _names(desk, _ids(cur, manager, now, LeadFilter(editor_ids=(seller2.id,)))) == {"service", "passat"}
    by_type = LeadFilter(lead_types=("financing", "used_car"), statuses=BOTH)
    assert _names(desk, _ids(cur, manager, now, by_type)) == {"tiguan", "sold"}


def test_filter_by_status(cur, now, manager, desk):
    assert _names(desk, _ids(cur, manager, now)) == {"golf", "tiguan", "service", "passat"}   # default: open
    assert _names(desk, _ids(cur, manager, now, LeadFilter(statuses=("completed",)))) == {"sold"}
    assert len(_ids(cur, manager, now, LeadFilter(statuses=BOTH))) == 5
    assert len(_ids(cur, manager, now, LeadFilter(statuses=()))) == 5                         # no filter


def test_filter_by_traffic_light(cur, now, manager, desk):
    def light(*names):
        return _names(desk, _ids(cur, manager, now, LeadFilter(traffic_lights=names, statuses=BOTH)))
    assert light("overdue") == {"service"}
    assert light("due soon") == {"tiguan"}
    assert light("on time") == {"golf", "passat"}
    assert light("overdue", "due soon") == {"service", "tiguan"}


def test_filter_mine_and_by_contact(cur, now, seller, manager, desk):
    assert _names(desk, _ids(cur, seller, now, LeadFilter(mine=True, statuses=BOTH))) == {
        "golf", "tiguan", "sold"}
    assert _ids(cur, manager, now, LeadFilter(mine=True)) == []
    assert _names(desk, _ids(cur, manager, now, LeadFilter(contact_id=desk["erika"]))) == {
        "service", "passat"}


def test_filters_combine(cur, now, manager, seller, desk):
    f = LeadFilter(text="muster", editor_ids=(seller.id,), traffic_lights=("on time",))
    assert _names(desk, _ids(cur, manager, now, f)) == {"golf"}
    assert lead_list.count_leads(cur, manager, now, f) == 1


def test_created_date_range_uses_local_dealership_dates(cur, manager, make_lead, berlin):
    made = {
        "thu-late": make_lead(manager, at=berlin("2026-11-26 23:30")),      # Thu 22:30 UTC
        "fri-early": make_lead(manager, at=berlin("2026-11-27 00:30")),     # Thu 23:30 UTC
        "fri-last": make_lead(manager, at=berlin("2026-11-27 23:59:59.999999")),
        "sat": make_lead(manager, at=berlin("2026-11-28 00:00")),
    }
    now = berlin("2026-11-28 12:00")

    def created(start, end):
        ids = _ids(cur, manager, now, LeadFilter(created_from=start, created_to=end))
        return {k for k, v in made.items() if v in ids}

    friday = date(2026, 11, 27)
    assert created(friday, friday) == {"fri-early", "fri-last"}
    assert created(date(2026, 11, 26), date(2026, 11, 26)) == {"thu-late"}
    assert created(friday, None) == {"fri-early", "fri-last", "sat"}
    assert created(None, friday) == {"thu-late", "fri-early", "fri-last"}
    assert created(None, None) == set(made)


def test_created_date_range_on_the_day_summer_time_ends(cur, manager, make_lead, berlin):
    # 2026-10-25 has 25 hours in Berlin: 00:00 local is 22:00 UTC the day before, 24:00 is 23:00 UTC.
    first = make_lead(manager, at=berlin("2026-10-25 00:10"))
    last = make_lead(manager, at=berlin("2026-10-25 23:50"))
    make_lead(manager, at=berlin("2026-10-26 00:10"))
    make_lead(manager, at=berlin("2026-10-24 23:50"))
    day = date(2026, 10, 25)
    f = LeadFilter(created_from=day, created_to=day, statuses=BOTH)
    assert sorted(_ids(cur, manager, berlin("2026-11-27 10:00"), f)) == [first, last]


# --- paging ---------------------------------------------------------------------------------

def test_paging_130_leads_by_50_returns_each_once_in_list_order(cur, now, manager, make_lead, berlin):
    made = []
    for i in range(130):
        if i % 3 == 0:    # due from a resubmission, scattered over the next days
            made.append(make_lead(manager, resubmission_at=now + timedelta(minutes=(i * 37) % 600 + 1)))
        elif i % 3 == 1:  # all arrived at the same moment: equal due_at, the id breaks the tie
            made.append(make_lead(manager))
        else:             # arrived earlier: overdue
            made.append(make_lead(manager, at=now - timedelta(hours=i % 7 + 3)))
    for lead_id in made[::10]:
        leads.complete(cur, manager, now, lead_id, _reason(cur))

    f = LeadFilter(statuses=BOTH)
    seen, sizes, after = [], [], None
    while True:
        page = lead_list.list_leads(cur, manager, now, f, after=after, page_size=50)
        sizes.append(len(page.rows))
        seen += page.rows["id"].astype(int).tolist()
        after = page.next_after
        if after is None:
            break
    assert sizes == [50, 50, 30]
    assert sorted(seen) == sorted(made) and len(set(seen)) == 130
    rows = cur.execute("SELECT id, status <> 'open', due_at FROM leads").fetchall()
    expected = [i for i, closed, due in sorted(rows, key=lambda r: (r[1], r[2], r[0]))]
    assert seen == expected
    assert lead_list.count_leads(cur, manager, now, f) == 130
    assert lead_list.count_leads(cur, manager, now, LeadFilter()) == 130 - 13


def test_paging_a_filtered_list_matches_its_count(cur, now, manager, seller, make_lead):
    for i in range(60):
        make_lead(manager, editor=seller if i % 2 else manager,
                  subject=f"Anfrage {i}" if i % 3 else f"Golf {i}")
    f = LeadFilter(text="golf", editor_ids=(seller.id,))
    first = lead_list.list_leads(cur, manager, now, f, page_size=7)
    second = lead_list.list_leads(cur, manager, now, f, after=first.next_after, page_size=7)
    ids = first.rows["id"].tolist() + second.rows["id"].tolist()
    assert lead_list.count_leads(cur, manager, now, f) == len(ids) == 10
    assert second.next_after is None
    subjects = set(first.rows["subject"]) | set(second.rows["subject"])
    assert all(s.startswith("Golf") for s in subjects)
    assert set(first.rows["editor"]) | set(second.rows["editor"]) == {"Anna Becker"}
