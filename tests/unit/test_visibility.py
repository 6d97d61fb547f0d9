"""Who sees and changes which leads (SPEC section 2), enforced in leadcore itself."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from leadcore.admin import users
from leadcore.errors import PermissionDenied
from leadcore.leads import detail as lead_detail
from leadcore.leads import listing as lead_list
from leadcore.leads import service as leads
from leadcore.leads import timeline as lead_timeline
from leadcore.leads import visibility
from leadcore.leads.listing import LeadFilter

BOTH = ("open", "completed")


@pytest.fixture
def reason_id(cur) -> int:
    return cur.execute("SELECT id FROM completion_reasons WHERE code = 'sold'").fetchall()[0][0]


@pytest.fixture
def anna_lead(make_lead, seller) -> int:
    return make_lead(seller, subject="Annas Lead")


@pytest.fixture
def ben_lead(make_lead, seller2) -> int:
    return make_lead(seller2, subject="Bens Lead")


@pytest.fixture
def events(count):
    """How many events the lead has."""
    return lambda lead_id: count("lead_events", "lead_id = ?", [lead_id])


def _listed(cur, user, now, **filters) -> set[int]:
    f = LeadFilter(statuses=BOTH, **filters)
    ids = set(lead_list.list_leads(cur, user, now, f, page_size=500).rows["id"].astype(int))
    assert lead_list.count_leads(cur, user, now, f) == len(ids)
    return ids


def _writes(cur, now, lead_id, other_editor_id, reason_id):
    later = now + timedelta(days=1)
    return {
        "add_note": lambda u: leads.add_note(cur, u, now, lead_id, "Angerufen", later),
        "set_resubmission": lambda u: leads.set_resubmission(cur, u, now, lead_id, later),
        "change_editor": lambda u: leads.change_editor(cur, u, now, lead_id, other_editor_id),
        "complete": lambda u: leads.complete(cur, u, now, lead_id, reason_id),
        "reopen": lambda u: leads.reopen(cur, u, now, lead_id, later),
    }


# --- sellers --------------------------------------------------------------------------------

def test_a_seller_lists_only_own_leads(cur, now, seller, seller2, anna_lead, ben_lead):
    assert _listed(cur, seller, now) == {anna_lead}
    assert _listed(cur, seller2, now) == {ben_lead}
    # even when asking for the other seller's leads explicitly
    assert _listed(cur, seller, now, editor_ids=(seller2.id,)) == set()
    assert _listed(cur, seller, now, text="Bens") == set()


def test_a_seller_cannot_open_another_sellers_lead(cur, now, seller, ben_lead):
    with pytest.raises(PermissionDenied):
        lead_detail.get_lead(cur, seller, now, ben_lead)
    with pytest.raises(PermissionDenied):
        lead_timeline.timeline(cur, seller, ben_lead)


@pytest.mark.parametrize("action", ["add_note", "set_resubmission", "change_editor", "complete", "reopen"])
def test_a_seller_cannot_change_another_sellers_lead(cur, now, seller, seller2, supervisor, ben_lead,
                                                     reason_id, events, action):
    if action == "reopen":
        leads.complete(cur, seller2, now, ben_lead, reason_id)
    before_events = events(ben_lead)
    before_row = cur.execute("SELECT * FROM leads WHERE id = ?", [ben_lead]).fetchall()
    with pytest.raises(PermissionDenied):
        _writes(cur, now, ben_lead, supervisor.id, reason_id)[action](seller)
    assert events(ben_lead) == before_events
    assert cur.execute("SELECT * FROM leads WHERE id = ?", [ben_lead]).fetchall() == before_row


def test_a_seller_who_hands_a_lead_over_no_longer_sees_it(cur, now, seller, seller2, anna_lead):
    leads.change_editor(cur, seller, now, anna_lead, seller2.id)
    assert _listed(cur, seller, now) == set()
    with pytest.raises(PermissionDenied):
        lead_detail.get_lead(cur, seller, now, anna_lead)
    assert lead_detail.get_lead(cur, seller2, now, anna_lead).editor == "Ben Schulz"


def test_a_seller_sees_a_lead_handed_to_them(cur, now, seller, seller2, ben_lead):
    leads.change_editor(cur, seller2, now, ben_lead, seller.id)
    assert _listed(cur, seller, now) == {ben_lead}
    leads.add_note(cur, seller, now, ben_lead, "Übernommen", now + timedelta(hours=3))


# --- supervisors ----------------------------------------------------------------------------

def test_the_supervisor_sees_and_works_both_sellers_leads(cur, now, supervisor, anna_lead, ben_lead,
                                                          reason_id):
    assert _listed(cur, supervisor, now) == {anna_lead, ben_lead}
    for lead_id in (anna_lead, ben_lead):
        assert lead_detail.get_lead(cur, supervisor, now, lead_id).id == lead_id
        assert len(lead_timeline.timeline(cur, supervisor, lead_id)) == 1
    leads.add_note(cur, supervisor, now, ben_lead, "Vertretung", now + timedelta(hours=2))
    leads.complete(cur, supervisor, now, anna_lead, reason_id)
    assert lead_detail.get_lead(cur, supervisor, now, anna_lead).status == "completed"


def test_reports_reach_up_a_chain_of_supervisors(cur, now, supervisor, seller, make_lead, anna_lead,
                                                 password):
    head = users.add_user(cur, now, "hanna", "Hanna Chef", "h@autohaus.example", "supervisor", password)
    cur.execute("INSERT INTO user_superiors VALUES (?, ?)", [supervisor.id, head.id])
    junior = users.add_user(cur, now, "jonas", "Jonas Neu", "j@autohaus.example", "seller", password,
                            superiors=[supervisor.id])
    junior_lead = make_lead(junior)
    supervisors_own = make_lead(supervisor)

    assert _listed(cur, head, now) == {anna_lead, junior_lead, supervisors_own}
    assert lead_detail.get_lead(cur, head, now, junior_lead).editor == "Jonas Neu"
    leads.set_resubmission(cur, head, now, junior_lead, now + timedelta(days=1))
    # ... but not the other way round
    assert _listed(cur, supervisor, now) == {anna_lead, junior_lead, supervisors_own}
    head_lead = make_lead(head)
    with pytest.raises(PermissionDenied):
        lead_detail.get_lead(cur, supervisor, now, head_lead)
    assert visibility.team_ids(cur, head) == sorted([head.id, supervisor.id, seller.id, junior.id])


def test_a_supervisor_does_not_see_sellers_of_another_team(cur, now, supervisor, anna_lead, make_lead,
                                                           password):
    other_boss = users.add_user(cur, now, "olaf", "Olaf Nord", "o@autohaus.example", "supervisor", password)
    stranger = users.add_user(cur, now, "sven", "Sven Nord", "s@autohaus.example", "seller", password,
                              superiors=[other_boss.id])
    stranger_lead = make_lead(stranger)
    assert _listed(cur, supervisor, now) == {anna_lead}
    with pytest.raises(PermissionDenied):
        leads.add_note(cur, supervisor, now, stranger_lead, "x", now + timedelta(days=1))
    assert _listed(cur, other_boss, now) == {stranger_lead}


def test_a_cycle_of_superiors_does_not_hang(cur, now, supervisor, seller, anna_lead, make_lead):
    cur.execute("INSERT INTO user_superiors VALUES (?, ?)", [supervisor.id, seller.id])
    assert visibility.team_ids(cur, supervisor) == sorted([supervisor.id, seller.id])
    clara_lead = make_lead(supervisor)
    assert _listed(cur, supervisor, now) == {anna_lead, clara_lead}
    # a seller sees own leads only, whoever is recorded as reporting to them
    assert _listed(cur, seller, now) == {anna_lead}


# --- managers, admins, analysts -------------------------------------------------------------

def test_the_manager_and_admin_see_all_leads(cur, now, manager, admin, anna_lead, ben_lead, make_lead):
    own = make_lead(manager)
    for boss in (manager, admin):
        assert _listed(cur, boss, now) == {anna_lead, ben_lead, own}
        assert lead_detail.get_lead(cur, boss, now, ben_lead).subject == "Bens Lead"
    leads.set_resubmission(cur, manager, now, anna_lead, now + timedelta(hours=5))


def test_the_analyst_sees_all_leads(cur, now, analyst, anna_lead, ben_lead):
    assert _listed(cur, analyst, now) == {anna_lead, ben_lead}
    assert lead_detail.get_lead(cur, analyst, now, ben_lead).editor == "Ben Schulz"
    assert len(lead_timeline.timeline(cur, analyst, anna_lead)) == 1


@pytest.mark.parametrize("action", ["add_note", "set_resubmission", "change_editor", "complete", "reopen"])
def test_every_analyst_write_is_refused(cur, now, analyst, seller, seller2, anna_lead, reason_id, events,
                                        action):
    if action == "reopen":
        leads.complete(cur, seller, now, anna_lead, reason_id)
    before_events = events(anna_lead)
    before_row = cur.execute("SELECT * FROM leads WHERE id = ?", [anna_lead]).fetchall()
    with pytest.raises(PermissionDenied) as caught:
        _writes(cur, now, anna_lead, seller2.id, reason_id)[action](analyst)
    assert caught.value.message == "Your role can read leads but not change them."
    assert events(anna_lead) == before_events
    assert cur.execute("SELECT * FROM leads WHERE id = ?", [anna_lead]).fetchall() == before_row


def test_an_analyst_cannot_create_leads_even_for_others(cur, now, analyst, seller, contact, source_ids,
                                                       count):
    data = leads.LeadInput(contact_id=contact.id, source_id=source_ids["Phone"], lead_type="other",
                           subject="Rückruf", editor_id=seller.id)
    with pytest.raises(PermissionDenied):
        leads.create_lead(cur, analyst, now, data)
    with pytest.raises(PermissionDenied):
        leads.create_lead(cur, analyst, now, replace(data, editor_id=analyst.id))
    assert count("leads") == 0
