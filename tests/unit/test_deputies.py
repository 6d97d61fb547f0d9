"""A seller sees and works the leads of an absent colleague who named them deputy, on those days only."""
from __future__ import annotations

from datetime import timedelta

import pytest

from leadcore.errors import PermissionDenied
from leadcore.leads import detail as lead_detail
from leadcore.leads import listing as lead_list
from leadcore.leads import service as leads
from leadcore.leads.listing import LeadFilter


@pytest.fixture
def absent_seller2(cur, seller, seller2):
    # Ben (seller2) is away Friday 27 to Sunday 29 November; Anna (seller) stands in.
    cur.execute("INSERT INTO absences (id, user_id, starts_on, ends_on, deputy_id, note)"
                " VALUES (1, ?, '2026-11-27', '2026-11-29', ?, 'Urlaub')", [seller2.id, seller.id])


def test_the_deputy_sees_and_works_the_absent_colleagues_leads(cur, now, berlin, seller, seller2,
                                                               make_lead, absent_seller2):
    lead = make_lead(seller2)
    listed = lead_list.list_leads(cur, seller, now, LeadFilter()).rows
    assert lead in listed["id"].tolist()
    assert lead_detail.get_lead(cur, seller, now, lead).editor == seller2.full_name
    leads.add_note(cur, seller, now, lead, "Called for Ben", berlin("2026-11-30 09:00"))


def test_the_deputy_rights_end_with_the_absence(cur, berlin, seller, seller2, make_lead, absent_seller2):
    lead = make_lead(seller2)
    monday = berlin("2026-11-30 09:00")
    assert lead not in lead_list.list_leads(cur, seller, monday, LeadFilter()).rows["id"].tolist()
    with pytest.raises(PermissionDenied):
        lead_detail.get_lead(cur, seller, monday, lead)
    with pytest.raises(PermissionDenied):
        leads.change_editor(cur, seller, monday, lead, seller.id)


def test_absence_days_are_local_dates(cur, berlin, seller, seller2, make_lead, absent_seller2):
    lead = make_lead(seller2)
    # Sunday 23:30 in Berlin (22:30 UTC) is inside the absence; Monday 00:01 in Berlin is not,
    # although it is still Sunday in UTC.
    late_sunday = berlin("2026-11-29 23:30")
    lead_detail.get_lead(cur, seller, late_sunday, lead)
    with pytest.raises(PermissionDenied):
        lead_detail.get_lead(cur, seller, late_sunday + timedelta(minutes=31), lead)


def test_other_sellers_gain_nothing(cur, now, seller2, seller, make_lead, absent_seller2):
    lead = make_lead(seller)
    with pytest.raises(PermissionDenied):
        lead_detail.get_lead(cur, seller2, now, lead)
